import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * What may import what (docs/architecture.md, "What may import what"), read from the source's
 * own import statements (type-only ones too: a circle of types is still a circle).
 */

const ROOT = path.join(__dirname, '..', '..');

/**
 * The layers of `shared/`, lowest first. A folder (or top-level file) imports only from its
 * own layer or those below it; within a layer, folders may import each other as long as no
 * circle forms (checked below for every file).
 */
const SHARED_LAYERS: readonly (readonly string[])[] = [
  // Foundation: facts and ports, no domain.
  ['errors', 'logger', 'config', 'topology', 'reply', 'ports', 'schedules', 'net', 'jobs'],
  // The store and the platform (ports wired to their AWS or local adapters).
  ['store', 'adapters', 'platform'],
  // Capabilities that stand on their own.
  ['users', 'accounts', 'contacts', 'connectors', 'webhooks', 'templates'],
  // Facts about contacts, and external rows.
  ['activities', 'events', 'orders', 'sources'],
  // Email out (channels, suppressions, tracking) and its outcomes back as activities.
  ['email'],
  ['segments'],
  ['messages'],
  // Capabilities built on messages and segments, or on connectors alone.
  ['trigger-events', 'exports', 'oauth', 'account-info'],
  // The web console's sign-in session (a credential beside API keys and OAuth tokens).
  ['console'],
  // The HTTP edge: the router, request validation, the error model's mapping.
  ['http'],
];

/** Top-level folders and what each may import besides itself. */
const AREAS: Readonly<Record<string, readonly string[]>> = {
  shared: [],
  functions: ['shared'],
  // The browser console's sources and their build; the page talks to the API over HTTP only.
  console: [],
  local: ['functions', 'shared', 'console/build.ts'],
  // The CDK app reads declarations only, never domain code (it would end up in `cdk synth`):
  // the topology, the config, the names its alarms and dashboard watch (metrics, method groups,
  // datasets, database roles), and the files it deploys as they are (the console's build, the
  // reference page's assets).
  infra: [
    'shared/config.ts',
    'shared/topology.ts',
    'shared/ports/metrics.ts',
    'shared/accounts/rights.ts',
    'shared/exports/datasets.ts',
    'shared/store/database-roles.ts',
    'console/build.ts',
    'functions/api/reference/assets.ts',
  ],
  // The post-deploy smoke test: a client of the API over HTTP, nothing of ours.
  ops: [],
  bench: ['infra', 'local', 'functions', 'shared', 'test/support'],
  test: ['infra', 'local', 'functions', 'shared', 'bench', 'console', 'ops'],
};

/** Only adapters (and the platform and `on-first-use.ts`, which wire them) may talk to AWS. */
const AWS_SDK_ALLOWED = ['shared/adapters/aws/', 'shared/platform.ts', 'shared/adapters/on-first-use.ts'];

interface Import {
  readonly from: string;
  readonly to: string;
}

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.ts')) files.push(relative);
    }
  };
  for (const area of Object.keys(AREAS)) walk(area);
  return files;
}

function importsOf(file: string): { relative: Import[]; packages: string[] } {
  const info = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
  const relative: Import[] = [];
  const packages: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) {
      packages.push(fileName);
      continue;
    }
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName));
    const to = [`${base}.ts`, `${base}/index.ts`].find((candidate) => existsSync(path.join(ROOT, candidate)));
    if (to) relative.push({ from: file, to });
  }
  return { relative, packages };
}

/** `shared/connectors/settings.ts` → `connectors`; `shared/config.ts` → `config`. */
function sharedUnit(file: string): string {
  return file.split('/')[1]!.replace(/\.ts$/, '');
}

function layerOf(unit: string): number {
  const layer = SHARED_LAYERS.findIndex((units) => units.includes(unit));
  if (layer < 0) throw new Error(`shared/${unit} has no layer: add it to SHARED_LAYERS and to docs/architecture.md`);
  return layer;
}

const files = sourceFiles();
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const imports = [...graph.values()].flatMap((entry) => entry.relative);

describe('what may import what', () => {
  it('keeps each top-level folder to the folders below it', () => {
    const wrong = imports
      .filter(({ from, to }) => {
        const [fromArea, toArea] = [from.split('/')[0]!, to.split('/')[0]!];
        return fromArea !== toArea && !AREAS[fromArea]!.some((allowed) => to === allowed || to.startsWith(`${allowed}/`));
      })
      .map(({ from, to }) => `${from} → ${to}`);
    expect(wrong).toEqual([]);
  });

  it('keeps every arrow in shared/ pointing down its layers', () => {
    const upward = imports
      .filter(({ from, to }) => from.startsWith('shared/') && to.startsWith('shared/'))
      .filter(({ from, to }) => layerOf(sharedUnit(to)) > layerOf(sharedUnit(from)))
      .map(({ from, to }) => `${from} → ${to}`);
    expect(upward).toEqual([]);
  });

  it('gives every folder of shared/ a layer', () => {
    const units = new Set(files.filter((file) => file.startsWith('shared/')).map(sharedUnit));
    expect([...units].filter((unit) => !SHARED_LAYERS.some((layer) => layer.includes(unit)))).toEqual([]);
  });

  it('lets only the AWS adapters use the AWS SDK', () => {
    const wrong = files
      .filter((file) => file.startsWith('shared/') && !AWS_SDK_ALLOWED.some((allowed) => file.startsWith(allowed)))
      .filter((file) => graph.get(file)!.packages.some((name) => name.startsWith('@aws-sdk/')));
    expect(wrong).toEqual([]);
  });

  it('has no import circle anywhere', () => {
    // Tarjan's strongly connected components: any component of more than one file is a circle.
    const edges = new Map<string, string[]>(files.map((file) => [file, graph.get(file)!.relative.map((entry) => entry.to)]));
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const circles: string[][] = [];
    let counter = 0;
    const visit = (file: string) => {
      index.set(file, counter);
      low.set(file, counter);
      counter += 1;
      stack.push(file);
      onStack.add(file);
      for (const next of edges.get(file) ?? []) {
        if (!index.has(next)) {
          visit(next);
          low.set(file, Math.min(low.get(file)!, low.get(next)!));
        } else if (onStack.has(next)) {
          low.set(file, Math.min(low.get(file)!, index.get(next)!));
        }
      }
      if (low.get(file) === index.get(file)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== file);
        if (component.length > 1 || (edges.get(file) ?? []).includes(file)) circles.push(component.sort());
      }
    };
    for (const file of files) if (!index.has(file)) visit(file);
    expect(circles).toEqual([]);
  });
});
