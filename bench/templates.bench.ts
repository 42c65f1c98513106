/**
 * Renders per second of the seed's template (both ways of reading `promo_codes`) for a page
 * of 1,000 recipients, each with its own `$data` and `$contact`: as a send renders it
 * (`renderTemplates`: the fast path on this thread, the render threads for what exceeds it)
 * against raw velocityjs on a pre-parsed AST, the same round's baseline. Target: sandboxed ≥
 * 0.8 × raw. Each figure is the median of three rounds with every round and the spread;
 * beside the rates, the process's CPU per render (the render threads' included) and its ratio
 * to raw. Also reported: the guard's cost per render (the sandbox's checks alone; the whole
 * send path), and one preview's round trip.
 */
import { Compile, parse } from 'velocityjs';
import { DEFAULT_RENDER_HEAP_MB, DEFAULT_TEMPLATE_RENDER_MS } from '../shared/templates/limits';
import { renderTemplate } from '../shared/templates/render';
import { CpuBudget } from '../shared/templates/render-clock';
import { renderOne, renderTemplates, type RenderOptions } from '../shared/templates/render-pool';
import { figureByRound, median } from './load';

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
const ROUNDS = 3;
/**
 * Each round gives every way of rendering one second, in turns of 200 ms with the order
 * reversed every turn: one second of each back to back read anywhere from 0.5× to 1.6× raw
 * here, as the machine sped up or slowed down between them.
 */
const TURNS_PER_ROUND = 5;
const TURN_MS = 200;

interface Speed {
  readonly perSecond: number;
  /** CPU time of the whole process (this thread and the render threads) per render, µs. */
  readonly cpuUs: number;
}

type Work = () => Promise<number> | number;

/** Renders, seconds and CPU of one way of rendering, summed over its turns. */
class Meter {
  private renders = 0;
  private nanoseconds = 0n;
  private cpuMicroseconds = 0;

  constructor(readonly work: Work) {}

  async turn(milliseconds: number): Promise<void> {
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const budget = BigInt(milliseconds) * 1_000_000n;
    while (process.hrtime.bigint() - started < budget) this.renders += await this.work();
    this.nanoseconds += process.hrtime.bigint() - started;
    const cpu = process.cpuUsage(cpuBefore);
    this.cpuMicroseconds += cpu.user + cpu.system;
  }

  get speed(): Speed {
    return { perSecond: this.renders / (Number(this.nanoseconds) / 1e9), cpuUs: this.cpuMicroseconds / this.renders };
  }
}

/** One round: each work's speed over the same stretch of time, taken in alternating turns. */
async function speedsInTurns(works: readonly Work[]): Promise<Speed[]> {
  const meters = works.map((work) => new Meter(work));
  for (const meter of meters) for (let index = 0; index < 5; index += 1) await meter.work();
  for (let turn = 0; turn < TURNS_PER_ROUND; turn += 1) {
    for (const meter of turn % 2 === 0 ? meters : [...meters].reverse()) await meter.turn(TURN_MS);
  }
  return meters.map((meter) => meter.speed);
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

  // Each way renders the same page of recipients, each with its own data; raw velocityjs on a
  // pre-parsed AST is the same-round baseline.
  const raw: Work = () => times(PAGE, (index) => new Compile(ast, { escape: false }).render({ ...pageData[index] }));
  const sandboxOnThisThread: Work = () =>
    times(PAGE, (index) => renderTemplate(seedTemplate, pageData[index] ?? {}, { clock: new CpuBudget(DEFAULT_TEMPLATE_RENDER_MS) }));
  const sandboxedSends: Work = async () =>
    (
      await renderTemplates(
        [seedTemplate],
        pageData.map((variables) => ({ template: 0, variables })),
        options,
      )
    ).length;
  const rounds: { raw: Speed; sandboxOnThisThread: Speed; sandboxedSends: Speed }[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const [rawSpeed, onThisThread, sends] = await speedsInTurns([raw, sandboxOnThisThread, sandboxedSends]);
    rounds.push({ raw: rawSpeed!, sandboxOnThisThread: onThisThread!, sandboxedSends: sends! });
  }
  const [previews] = await speedsInTurns([
    async () => {
      await renderOne(seedTemplate, { data }, options);
      return 1;
    },
  ]);
  const figure = figureByRound(rounds);
  const ratios = rounds.map((round) => round.sandboxedSends.perSecond / round.raw.perSecond);
  const ratio = median(ratios);
  return {
    ...figure('raw_velocityjs_renders_per_s', (round) => round.raw.perSecond, 0),
    ...figure('sandboxed_renders_per_s', (round) => round.sandboxedSends.perSecond, 0),
    ...figure('sandboxed_to_raw_ratio', (round) => round.sandboxedSends.perSecond / round.raw.perSecond, 3),
    target: 'ratio >= 0.8',
    meets_target: ratio >= 0.8 ? 'yes' : 'no',
    ...figure('raw_velocityjs_cpu_us_per_render', (round) => round.raw.cpuUs, 2),
    // The render threads' CPU included: what a send's render really costs the machine.
    ...figure('sandboxed_cpu_us_per_render', (round) => round.sandboxedSends.cpuUs, 2),
    ...figure('sandboxed_to_raw_cpu_ratio', (round) => round.sandboxedSends.cpuUs / round.raw.cpuUs, 3),
    ...figure('sandbox_on_one_thread_renders_per_s', (round) => round.sandboxOnThisThread.perSecond, 0),
    ...figure('guard_cost_sandbox_cpu_us_per_render', (round) => round.sandboxOnThisThread.cpuUs - round.raw.cpuUs, 2),
    ...figure('guard_cost_send_path_cpu_us_per_render', (round) => round.sandboxedSends.cpuUs - round.raw.cpuUs, 2),
    preview_round_trip_us: Math.round(1e6 / previews!.perSecond),
    preview_cpu_us: Math.round(previews!.cpuUs),
    page_size: PAGE,
  };
}
