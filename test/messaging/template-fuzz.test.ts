import { renderTemplates, stopRenderThreads, templateErrors, type RenderOptions } from '../../shared/templates/render-pool';

/**
 * A few hundred generated templates built to run away (nested loops, growing strings and
 * lists, deep and wide macros, huge literals, long method chains), each rendered on the
 * render threads: every one must end, with its output or with TEMPLATE_LIMIT_EXCEEDED or
 * TEMPLATE_SYNTAX, never with anything else and never without an answer.
 */
afterAll(stopRenderThreads);

const options: RenderOptions = { templateRenderMs: 200, templateRenderHeapMb: 128 };

/** A small deterministic generator (mulberry32), so a failure names a template that can be replayed. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const count = (max: number): number => 1 + Math.floor(random() * max);
  const grow = (name: string) =>
    `#set($${name} = "${'ab'.repeat(count(8))}")#foreach($g in [1..${count(40)}])#set($${name} = ${pick([`"$${name}$${name}"`, `$${name} + $${name}`, `$${name}.concat($${name})`, `"$${name}x$${name}"`])})#end`;
  const pieces: (() => string)[] = [
    () => grow('s'),
    () => `${grow('s')}#set($t = $s.replace("${pick(['a', 'b', 'ab', ''])}", "${'z'.repeat(count(600))}"))$t.length()`,
    () =>
      `${grow('s')}#foreach($i in [1..${count(5000)}])#set($u = $s.${pick(['toUpperCase()', 'trim()', 'replace("a", "b")', 'indexOf("zz")', 'contains("q")'])})#end`,
    () => `#foreach($i in [1..${count(10_000)}])#foreach($j in [1..${count(10_000)}])${pick(['$i', '', '#set($x = $i * $j)'])}#end#end`,
    () => `#foreach($i in [1..${count(200_000_000)}])x#end`,
    () => `#macro(m${count(3)} $n)#if($n > 0)#m${count(3)}($n - 1)#m${count(3)}($n - 1)#end#end#m1(${count(40)})#m2(${count(40)})#m3(${count(40)})`,
    () => `#macro(deep $n)$n#deep($n)#end#deep(${count(9)})`,
    () => `#set($l = [1])#foreach($i in [1..${count(40)}])#set($l = [$l, $l])#end${pick(['$l', '$l.size()', '#set($p = "$l")'])}`,
    () => `#set($l = [])#foreach($i in [1..${count(10_000)}])#set($ok = $l.add("${'w'.repeat(count(2000))}$i"))#end$l.size()`,
    () => `#set($m = {})#foreach($i in [1..${count(10_000)}])#set($ok = $m.put("k$i", $i))#end$m.size() $m.keySet().size()`,
    () => `#set($big = [${Array.from({ length: count(3000) }, (_, index) => index).join(',')}])#foreach($x in $big)#foreach($y in $big)#end#end`,
    () => `"${'q'.repeat(count(200_000))}"`,
    () => `#set($s = "${'$!x '.repeat(count(20_000))}")$s`,
    () => `#define($d)${pick(['$d', '$d$d', 'x'])}#end$d`,
    () => `#set($e = "${pick(['#set($z = 1)$z', '#if(true)x#end', '$e'])}")#eval($e)`,
    () => `${'('.repeat(count(200))}`,
    () => `${'#if(true)'.repeat(count(100))}x${'#end'.repeat(count(100))}`,
    () => `#set($s = "a,b,c")#foreach($i in [1..${count(20)}])#set($s = $s.replace(",", ",$s,"))#end$s.split(",").size()`,
    () => '#foreach($i in [1..3])$i#if($i == 2)#break#end#end',
    () => `${'$a.b('.repeat(count(50))}1${')'.repeat(count(50))}`,
  ];
  return Array.from({ length: count(3) }, () => pick(pieces)()).join('\n');
}

describe('generated runaway templates', () => {
  it('each ends with its output, TEMPLATE_LIMIT_EXCEEDED or TEMPLATE_SYNTAX', async () => {
    const random = generator(19);
    const templates = Array.from({ length: 300 }, () => generate(random));
    // In batches, as a bulk send hands pages over: a batch's failures never hold up another's.
    const results = (
      await Promise.all(
        [0, 1, 2, 3, 4, 5].map((batch) => {
          const slice = templates.slice(batch * 50, batch * 50 + 50);
          return renderTemplates(
            slice,
            slice.map((_, template) => ({ template, variables: { data: { x: 'y' } } })),
            options,
          );
        }),
      )
    ).flat();
    expect(results).toHaveLength(templates.length);
    const unexpected = results.flatMap((result, index) =>
      result.ok || ['TEMPLATE_LIMIT_EXCEEDED', 'TEMPLATE_SYNTAX'].includes(result.error.code)
        ? []
        : [{ template: templates[index]?.slice(0, 300), error: result.error }],
    );
    expect(unexpected).toEqual([]);
    // Most were stopped, and some rendered: the generator covers both sides.
    expect(results.filter((result) => !result.ok).length).toBeGreaterThan(100);
    expect(results.filter((result) => result.ok).length).toBeGreaterThan(10);
    // And the threads are still serving.
    expect(await renderTemplates(['Hi $name'], [{ template: 0, variables: { name: 'Dina' } }], options)).toEqual([{ ok: true, output: 'Hi Dina' }]);
  });

  it('renders on the threads what the fast path may not: its bounds are never an answer', async () => {
    // 8,000 iterations and 1,500,000 characters of output: past the calling thread's fast-path bounds, within the full limits.
    const template = `#foreach($i in [1..8000])${'x'.repeat(180)}#end`;
    const [result] = await renderTemplates([template], [{ template: 0, variables: {} }], options);
    expect(result).toEqual({ ok: true, output: 'x'.repeat(180 * 8000) });
  });

  it('stops a parse that would take longer than a render may', async () => {
    const [error] = await templateErrors(['$ '.repeat(131_072)], { ...options, templateRenderMs: 20 });
    expect(error).toEqual({ code: 'TEMPLATE_LIMIT_EXCEEDED', message: 'the template took too long to parse' });
    // A time-out is not remembered as the template's verdict: with its time, it parses.
    const [again] = await templateErrors(['$ '.repeat(131_072)], { ...options, templateRenderMs: 60_000 });
    expect(again).toBeUndefined();
  });
});
