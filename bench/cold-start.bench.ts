/**
 * Cold start: synthesises the stack as `cdk synth` would, then loads each Satellite function's
 * bundle in a fresh Node process (with `--enable-source-maps`, as deployed) and measures the
 * module load: wall time and CPU time of `require(index.js)`, median of 5. Also the size of
 * each function's zip (deflated files, as Lambda's zip holds them).
 *
 * Lambda runs Node 22 on arm64 with CPU in proportion to memory; this machine runs whatever
 * `node --version` says (Node 20 here), so compare figures with each other, not with Lambda's
 * Init Duration. The machine's CPU model is printed beside them.
 */
import { App } from 'aws-cdk-lib';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { SatelliteStack } from '../infra/satellite-stack';

const RUNS = 5;

interface LambdaResource {
  Type: string;
  Properties: { Description?: string; Environment?: { Variables?: Record<string, unknown> } };
  Metadata?: Record<string, string>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function zipBytes(folder: string): number {
  let total = 0;
  for (const entry of readdirSync(folder)) {
    const file = path.join(folder, entry);
    total += statSync(file).isDirectory() ? zipBytes(file) : deflateRawSync(readFileSync(file)).length + 100;
  }
  return total;
}

interface Load {
  readonly wallMs: number;
  readonly cpuMs: number;
  /** CPU Node spent starting itself before the require: the same work every run, so it gauges the machine. */
  readonly bootCpuMs: number;
}

/** One cold load in a fresh process: milliseconds of wall and CPU time spent in require(). */
function loadOnce(bundle: string): Load {
  const script = `
    const boot = process.cpuUsage();
    const cpu0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
    require(${JSON.stringify(bundle)});
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(JSON.stringify({ wallMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000, bootCpuMs: (boot.user + boot.system) / 1000 }));`;
  const output = execFileSync(process.execPath, ['--enable-source-maps', '-e', script], {
    env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    encoding: 'utf8',
  });
  return JSON.parse(output) as Load;
}

export function run(): Promise<Record<string, number | string>> {
  const root = path.join(__dirname, '..');
  const { context } = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const outdir = mkdtempSync(path.join(tmpdir(), 'satellite-cold-'));
  const app = new App({ outdir, context: { ...context, 'aws:cdk:enable-asset-metadata': true } });
  const stack = new SatelliteStack(app, 'SatelliteBench', { env: { account: '123456789012', region: 'eu-west-1' } });
  app.synth();
  const template = JSON.parse(readFileSync(path.join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as {
    Resources: Record<string, LambdaResource>;
  };

  const figures: Record<string, number | string> = {
    machine: `${cpus()[0]?.model ?? 'unknown'} ×${cpus().length}, load ${loadavg()[0]!.toFixed(1)}`,
    node: process.version,
  };
  // The same-run baseline: a trivial bundle (one empty handler), loaded the same way.
  const trivial = path.join(outdir, 'trivial-bundle');
  mkdirSync(trivial);
  writeFileSync(path.join(trivial, 'index.js'), 'exports.handler = async () => ({});\n');
  const baseline = Array.from({ length: RUNS }, () => loadOnce(path.join(trivial, 'index.js')));
  figures['baseline: node start cpu ms'] = Number(median(baseline.map((load) => load.bootCpuMs)).toFixed(0));
  figures['baseline: trivial bundle load cpu ms'] = Number(median(baseline.map((load) => load.cpuMs)).toFixed(1));
  let slowest = 0;
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resource.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME) continue;
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (!assetPath) continue;
    const folder = path.isAbsolute(assetPath) ? assetPath : path.join(outdir, assetPath);
    const loads = Array.from({ length: RUNS }, () => loadOnce(path.join(folder, 'index.js')));
    const name = id.replace(/[0-9A-F]{8}$/, '');
    const cpuMs = median(loads.map((load) => load.cpuMs));
    slowest = Math.max(slowest, cpuMs);
    figures[`${name} load cpu ms`] = Number(cpuMs.toFixed(0));
    figures[`${name} load wall ms`] = Number(median(loads.map((load) => load.wallMs)).toFixed(0));
    figures[`${name} zip KB`] = Math.round(zipBytes(folder) / 1024);
  }
  figures['slowest load cpu ms'] = Number(slowest.toFixed(0));
  return Promise.resolve(figures);
}
