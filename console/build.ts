import { build, buildSync, type BuildOptions, type OutputFile } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One file of the built console, as the local gateway (and later S3) serves it. */
export interface ConsoleFile {
  readonly contentType: string;
  readonly body: Buffer;
}

/** URL path → file. `/` is the page; everything else sits under `/console/`. */
export type ConsoleFiles = ReadonlyMap<string, ConsoleFile>;

/** The bundle's ceiling (issue 23): every script of the console together, gzipped. */
export const CONSOLE_SCRIPT_BUDGET_GZIP_BYTES = 80 * 1024;

/**
 * What the page may load: its own script and styles, calls to its own origin, nothing inline.
 * `style-src 'self'` alone would refuse nothing that Preact does (it sets styles through the
 * CSSOM, which CSP allows), so no 'unsafe-inline' anywhere.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const sourceDir = path.join(__dirname, 'src');

const buildOptions: BuildOptions & { write: false } = {
  entryPoints: [path.join(sourceDir, 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  write: false,
  outdir: '/console',
  entryNames: 'app',
  legalComments: 'none',
  logLevel: 'silent',
};

function filesOf(outputs: readonly OutputFile[]): ConsoleFiles {
  const files = new Map<string, ConsoleFile>();
  files.set('/', { contentType: 'text/html; charset=utf-8', body: readFileSync(path.join(sourceDir, 'index.html')) });
  for (const output of outputs) {
    const name = `/console/${path.basename(output.path)}`;
    const contentType = name.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8';
    files.set(name, { contentType, body: Buffer.from(output.contents) });
  }
  return files;
}

/**
 * Builds the console in memory with esbuild: `npm start` and the tests serve it straight from
 * here, so no build output is ever committed or stale.
 */
export async function buildConsole(): Promise<ConsoleFiles> {
  return filesOf((await build(buildOptions)).outputFiles);
}

/** The same build, synchronously: CDK constructs are built in a synchronous constructor. */
export function buildConsoleSync(): ConsoleFiles {
  return filesOf(buildSync(buildOptions).outputFiles);
}

let built: Promise<ConsoleFiles> | undefined;

/** Built once per process: every test stack in a file serves the same bundle. */
export function consoleFiles(): Promise<ConsoleFiles> {
  built ??= buildConsole();
  return built;
}
