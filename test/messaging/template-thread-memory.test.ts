import { busyRenderThreads, renderTemplates, stopRenderThreads } from '../../shared/templates/render-pool';

/**
 * The last bound: a render whose values outgrow its thread's heap (here 16 MB, so that a
 * template within every sandbox budget reaches it) ends that thread, not the process. The
 * job answers TEMPLATE_LIMIT_EXCEEDED, the rest of its batch is rendered on a fresh thread.
 * (Its own test file: the pool's threads keep the heap of the process's first render.)
 */
afterAll(stopRenderThreads);

const options = { templateRenderMs: 10_000, templateRenderHeapMb: 16 };

it('ends a render that outgrows its thread heap, and renders the rest of the batch', async () => {
  const hog =
    '#set($s = "x")#foreach($i in [1..16])#set($s = "$s$s")#end#set($l = [])#foreach($i in [1..700])#set($ok = $l.add($s.toUpperCase()))#end$l.size()';
  const results = await renderTemplates(
    ['before $n', hog, 'after $n'],
    [
      { template: 0, variables: { n: 1 } },
      { template: 1, variables: {} },
      { template: 2, variables: { n: 2 } },
    ],
    options,
  );
  expect(results).toEqual([
    { ok: true, output: 'before 1' },
    { ok: false, error: { code: 'TEMPLATE_LIMIT_EXCEEDED', message: 'the render needed more than the 16 MB a render thread may hold' } },
    { ok: true, output: 'after 2' },
  ]);
  expect(busyRenderThreads()).toBe(0);
});
