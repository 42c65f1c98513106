/**
 * `node --import tsx bench/alternate-contact-saves.ts <git revision> [pairs]`: the contact
 * creates' and updates' CPU of this tree against an older one, measured in turns (old, new,
 * new, old …: `inTurns`).
 * On a shared machine a whole bench run moves by more than a change of a few tens of µs, and
 * two runs minutes apart cannot tell two code states apart; samples taken in turns share the
 * machine's mood. The older tree is `git archive`d into a temporary folder with this tree's
 * node_modules (so a change of dependencies is not compared) and this tree's bench scripts (so
 * both are measured the same way, however old the other tree's bench is).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { SaveSample } from './contact-saves';
import { median } from './load';
import { BENCH_ENV, CURRENT_TREE, inTurns, withOlderTree } from './older-tree';

const SCRIPT = path.join('bench', 'contact-saves.ts');

function sample(tree: string): SaveSample[] {
  const output = execFileSync(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: tree,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: BENCH_ENV,
  });
  return JSON.parse(output.trim().split('\n').pop() ?? '[]') as SaveSample[];
}

function main(): void {
  const [revision, pairsArgument] = process.argv.slice(2);
  if (!revision) throw new Error('usage: alternate-contact-saves.ts <git revision> [pairs]');
  const pairs = Number(pairsArgument ?? 2);
  withOlderTree(revision, (older) => {
    const taken = inTurns(pairs, (tree) => sample(tree === 'older' ? older : CURRENT_TREE));
    const samples = { older: taken.older.flat(), current: taken.current.flat() };
    for (const [name, rounds] of Object.entries(samples)) {
      for (const kind of ['create', 'update'] as const) {
        const ofKind = rounds.filter((round) => round.kind === kind);
        const stack = ofKind.map((round) => round.stackUs ?? NaN);
        const postgres = ofKind.map((round) => round.postgresUs ?? NaN);
        process.stdout.write(
          `${name.padEnd(8)} ${kind} stack µs per call ${median(stack)} (${stack.join(' / ')}), PostgreSQL ${median(postgres)} (${postgres.join(' / ')})\n`,
        );
      }
    }
  });
}

main();
