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
