/**
 * Renders per second of the seed's template (both ways of reading `promo_codes`) for a page
 * of 1,000 recipients, each with its own `$data` and `$contact`: as a send renders it
 * (`renderTemplates`: the fast path on this thread, the render threads for what exceeds it)
 * against raw velocityjs on a pre-parsed AST. Target: sandboxed ≥ 0.8 × raw. Also reported:
 * the guard's cost per render (the sandbox's checks alone; the whole send path), and one
 * preview's round trip.
 */
import { Compile, parse } from 'velocityjs';
import { DEFAULT_RENDER_HEAP_MB, DEFAULT_TEMPLATE_RENDER_MS } from '../shared/templates/limits';
import { renderTemplate } from '../shared/templates/render';
import { CpuBudget } from '../shared/templates/render-clock';
import { renderOne, renderTemplates, type RenderOptions } from '../shared/templates/render-pool';

export const seedTemplate = [
  "<p>Hello, $!data.get('promo_codes').get(0).get('name')!</p>",
  "<p>Your code: $!data.get('promo_codes').get(0).get('promo_code')</p>",
  "#foreach($pc in $!data.get('promo_codes'))",
  "<li>$!pc.get('name') — $!pc.get('promo_code')</li>",
  '#end',
].join('\n');

const row = { id: '2', email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' };
const options: RenderOptions = { templateRenderMs: DEFAULT_TEMPLATE_RENDER_MS, templateRenderHeapMb: DEFAULT_RENDER_HEAP_MB };
/** A bulk send's page (BULK_PAGE_SIZE). */
const PAGE = 1_000;

async function rate(work: () => Promise<number> | number, milliseconds: number): Promise<number> {
  for (let index = 0; index < 5; index += 1) await work();
  let count = 0;
  const started = process.hrtime.bigint();
  const budget = BigInt(milliseconds) * 1_000_000n;
  while (process.hrtime.bigint() - started < budget) count += await work();
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

function times(count: number, work: (index: number) => void): number {
  for (let index = 0; index < count; index += 1) work(index);
  return count;
}

export async function run(): Promise<Record<string, number | string>> {
  const data = { promo_codes: [row] };
  const ast = parse(seedTemplate);
  const expected = new Compile(ast, { escape: false }).render({ data });
  const pageData = Array.from({ length: PAGE }, (_, index) => ({
    data: { promo_codes: [{ ...row, id: String(index) }] },
    contact: { id: index, firstName: 'Dina' },
  }));
  const page = await renderTemplates(
    [seedTemplate],
    pageData.map((variables) => ({ template: 0, variables })),
    options,
  );
  if (!page.every((result) => result.ok) || !(page[2]?.ok && page[2].output === expected)) throw new Error('sandboxed and raw renders differ');
  const inThread = renderTemplate(seedTemplate, { data }, { clock: new CpuBudget(DEFAULT_TEMPLATE_RENDER_MS) });
  if (!inThread.ok || inThread.output !== expected) throw new Error('sandboxed and raw renders differ');

  const rounds = 3;
  let raw = 0;
  let sandboxOnThisThread = 0;
  let sandboxedSends = 0;
  for (let round = 0; round < rounds; round += 1) {
    // Each way renders the same page of recipients, each with its own data.
    raw += await rate(() => times(PAGE, (index) => new Compile(ast, { escape: false }).render({ ...pageData[index] })), 1_000);
    sandboxOnThisThread += await rate(
      () => times(PAGE, (index) => renderTemplate(seedTemplate, pageData[index] ?? {}, { clock: new CpuBudget(DEFAULT_TEMPLATE_RENDER_MS) })),
      1_000,
    );
    sandboxedSends += await rate(
      async () =>
        (
          await renderTemplates(
            [seedTemplate],
            pageData.map((variables) => ({ template: 0, variables })),
            options,
          )
        ).length,
      1_000,
    );
  }
  raw /= rounds;
  sandboxOnThisThread /= rounds;
  sandboxedSends /= rounds;
  const previews = await rate(async () => {
    await renderOne(seedTemplate, { data }, options);
    return 1;
  }, 1_000);
  const microseconds = (perSecond: number): number => 1e6 / perSecond;
  const ratio = sandboxedSends / raw;
  return {
    raw_velocityjs_renders_per_s: Math.round(raw),
    sandboxed_renders_per_s: Math.round(sandboxedSends),
    sandboxed_to_raw_ratio: Number(ratio.toFixed(3)),
    target: 'ratio >= 0.8',
    meets_target: ratio >= 0.8 ? 'yes' : 'no',
    sandbox_on_one_thread_renders_per_s: Math.round(sandboxOnThisThread),
    guard_cost_sandbox_us_per_render: Number((microseconds(sandboxOnThisThread) - microseconds(raw)).toFixed(2)),
    guard_cost_send_path_us_per_render: Number((microseconds(sandboxedSends) - microseconds(raw)).toFixed(2)),
    preview_round_trip_us: Math.round(microseconds(previews)),
    page_size: PAGE,
  };
}
