/**
 * Renders per second of the seed's template (both ways of reading `promo_codes`), through
 * `renderTemplate` (cache lookup by content hash + sandbox) against raw velocityjs on a
 * pre-parsed AST. Target: sandboxed ≥ 0.8 × raw.
 */
import { Compile, parse } from 'velocityjs';
import { freezeData, renderTemplate } from '../shared/templates/render';

export const seedTemplate = [
  "<p>Hello, $!data.get('promo_codes').get(0).get('name')!</p>",
  "<p>Your code: $!data.get('promo_codes').get(0).get('promo_code')</p>",
  "#foreach($pc in $!data.get('promo_codes'))",
  "<li>$!pc.get('name') — $!pc.get('promo_code')</li>",
  '#end',
].join('\n');

const row = { id: '2', email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' };

function rate(work: () => void, milliseconds: number): number {
  for (let index = 0; index < 2_000; index += 1) work();
  let count = 0;
  const started = process.hrtime.bigint();
  const budget = BigInt(milliseconds) * 1_000_000n;
  while (process.hrtime.bigint() - started < budget) {
    for (let index = 0; index < 200; index += 1) work();
    count += 200;
  }
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

export async function run(): Promise<Record<string, number | string>> {
  const data = freezeData({ promo_codes: [row] });
  const ast = parse(seedTemplate);
  const expected = new Compile(ast, { escape: false }).render({ data });
  const sandboxed = renderTemplate(seedTemplate, { data });
  if (!sandboxed.ok || sandboxed.output !== expected) throw new Error('sandboxed and raw renders differ');

  const rounds = 3;
  let raw = 0;
  let sandbox = 0;
  for (let round = 0; round < rounds; round += 1) {
    raw += rate(() => new Compile(ast, { escape: false }).render({ data }), 1_000);
    sandbox += rate(() => renderTemplate(seedTemplate, { data }), 1_000);
  }
  raw /= rounds;
  sandbox /= rounds;
  const ratio = sandbox / raw;
  return {
    raw_velocityjs_renders_per_s: Math.round(raw),
    sandboxed_renders_per_s: Math.round(sandbox),
    sandboxed_to_raw_ratio: Number(ratio.toFixed(3)),
    target: 'ratio >= 0.8',
    meets_target: ratio >= 0.8 ? 'yes' : 'no',
  };
}
