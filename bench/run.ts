/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or those named on the command line),
 * prints their figures and writes each to `bench/results/<name>.json`.
 * A bench module exports `run(): Promise<Record<string, number | string>>`.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

type BenchModule = { run(): Promise<Record<string, number | string>> };

async function main(): Promise<void> {
  const folder = __dirname;
  const wanted = process.argv.slice(2);
  const files = readdirSync(folder)
    .filter((file) => file.endsWith('.bench.ts'))
    .filter((file) => wanted.length === 0 || wanted.some((name) => file.startsWith(name)))
    .sort();
  mkdirSync(path.join(folder, 'results'), { recursive: true });
  for (const file of files) {
    const name = file.replace(/\.bench\.ts$/, '');
    process.stdout.write(`\n== ${name}\n`);
    const module = (await import(path.join(folder, file))) as BenchModule;
    const figures = await module.run();
    for (const [key, value] of Object.entries(figures)) process.stdout.write(`  ${key.padEnd(40)} ${value}\n`);
    const result = { bench: name, at: new Date().toISOString(), node: process.version, figures };
    writeFileSync(path.join(folder, 'results', `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
