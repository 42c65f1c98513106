import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** This repository's root: the current tree of every comparison. */
export const CURRENT_TREE = path.resolve(__dirname, '..');

/**
 * Runs `work` with an older revision of this repository `git archive`d into a temporary folder,
 * given this tree's node_modules (so a change of dependencies is not compared) and this tree's
 * bench scripts (so both trees are measured the same way, however old the other tree's bench
 * is). The folder is removed afterwards.
 */
export function withOlderTree<T>(revision: string, work: (older: string) => T): T {
  const older = mkdtempSync(path.join(tmpdir(), 'satellite-older-'));
  const borrowedModules = path.join(older, 'node_modules');
  try {
    const archive = execFileSync('git', ['archive', revision], { cwd: CURRENT_TREE, maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', older], { input: archive });
    symlinkSync(path.join(CURRENT_TREE, 'node_modules'), borrowedModules);
    for (const file of readdirSync(path.join(CURRENT_TREE, 'bench')).filter((name) => name.endsWith('.ts'))) {
      copyFileSync(path.join(CURRENT_TREE, 'bench', file), path.join(older, 'bench', file));
    }
    return work(older);
  } finally {
    // The link first, so that removing the copy can never reach this tree's node_modules.
    if (existsSync(borrowedModules)) unlinkSync(borrowedModules);
    rmSync(older, { recursive: true, force: true });
  }
}

/** The environment a bench runs in: quiet logs, no SDK notice about the Node version. */
export const BENCH_ENV = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' };

/**
 * Samples both trees `pairs` times in turns, swapping which goes first every pair (older then
 * current, current then older, …). With the older tree always first, this tree measured
 * against itself read 10 % less CPU per contact create and 6 % less per update in the second
 * slot (bench/RESULTS.md, 7 December, sixth pass): whatever the machine drifts by over a run,
 * or an order effect, was credited to the current tree. Swapping the order every pair cancels
 * a steady drift over an even number of pairs.
 */
export function inTurns<T>(
  pairs: number,
  sample: (tree: 'older' | 'current') => T,
  afterPair?: (pair: number) => void,
): { older: T[]; current: T[] } {
  const taken = { older: [] as T[], current: [] as T[] };
  for (let pair = 1; pair <= pairs; pair += 1) {
    const order = pair % 2 === 1 ? (['older', 'current'] as const) : (['current', 'older'] as const);
    for (const tree of order) taken[tree].push(sample(tree));
    afterPair?.(pair);
  }
  return taken;
}
