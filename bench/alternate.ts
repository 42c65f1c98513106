/**
 * `npx tsx bench/alternate.ts <git revision> <bench> [pairs]`: one bench (`webhooks`,
 * `trigger-events`, …) run on an older revision and on this tree in turns (old, new, new,
 * old …: `inTurns`; three pairs unless told), each run a whole `bench/run.ts <bench>`. Prints, for every
 * figure both trees report, the median over the runs of each tree (every run's value beside
 * it) and new / old, and writes them to `bench/results/<bench>-alternate.json`.
 * This machine's speed wanders by ±30 % between runs, more than most changes move a figure:
 * runs in turns share its mood, and the ratio of their medians is what a target stated as
 * "x times the old code" is read from (see bench/RESULTS.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { median, ratio } from './load';
import { BENCH_ENV, CURRENT_TREE, inTurns, withOlderTree } from './older-tree';

type Figures = Record<string, number | string>;

function runBench(tree: string, bench: string): Figures {
  execFileSync(process.execPath, ['--import', 'tsx', path.join('bench', 'run.ts'), bench], {
    cwd: tree,
    env: BENCH_ENV,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const result = JSON.parse(readFileSync(path.join(tree, 'bench', 'results', `${bench}.json`), 'utf8')) as { figures: Figures };
  return result.figures;
}

/** The figures a run reports as one number (its median), not the rounds and spreads beside them. */
function headlineFigures(runs: readonly Figures[]): string[] {
  const names = new Set<string>();
  for (const figures of runs)
    for (const [name, value] of Object.entries(figures)) if (typeof value === 'number' && !name.endsWith(' spread %')) names.add(name);
  return [...names];
}

function main(): void {
  const [revision, bench, pairsArgument] = process.argv.slice(2);
  if (!revision || !bench) throw new Error('usage: alternate.ts <git revision> <bench> [pairs]');
  const pairs = Number(pairsArgument ?? 3);
  const runs = withOlderTree(revision, (older) =>
    inTurns(
      pairs,
      (tree) => runBench(tree === 'older' ? older : CURRENT_TREE, bench),
      (pair) => process.stderr.write(`pair ${pair} of ${pairs} done\n`),
    ),
  );
  const rows: Record<string, { older: number; current: number; ratio: number | string; olderRuns: string; currentRuns: string }> = {};
  for (const name of headlineFigures([...runs.older, ...runs.current])) {
    const values = (of: readonly Figures[]) => of.map((figures) => figures[name]).filter((value): value is number => typeof value === 'number');
    const older = values(runs.older);
    const current = values(runs.current);
    if (older.length === 0 || current.length === 0) continue;
    rows[name] = {
      older: median(older),
      current: median(current),
      ratio: ratio(median(current), median(older)),
      olderRuns: older.join(' / '),
      currentRuns: current.join(' / '),
    };
    process.stdout.write(
      `  ${name.padEnd(60)} ${String(median(older)).padStart(8)} → ${String(median(current)).padStart(8)}  ×${rows[name].ratio}  (${older.join(' / ')} → ${current.join(' / ')})\n`,
    );
  }
  const folder = path.join(CURRENT_TREE, 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, `${bench}-alternate.json`),
    `${JSON.stringify({ bench, against: revision, pairs, at: new Date().toISOString(), node: process.version, figures: rows }, null, 2)}\n`,
  );
}

main();
