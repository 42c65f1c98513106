/**
 * Cold start: synthesises the stack as `cdk synth` would, then loads each Satellite function's
 * bundle in a fresh Node 22 process (the Lambda runtime's major version, with the function's own
 * `NODE_OPTIONS`, as deployed) and measures the module load: wall time and CPU time of
 * `require(index.js)`, median of 5 with the spread, and its ratio to Node's own start-up CPU
 * in the same runs (the same work every time, so it gauges the machine). Also the size of each
 * function's zip (deflated files, as Lambda's zip holds them).
 *
 * When the Node running the bench is not 22, the bench installs Node 22's binary from the npm
 * registry (`node-<platform>-<arch>@22`) into `node_modules/.cache` once and loads the bundles
 * with it: libraries take other paths on other versions (pg probes `navigator`, which Node 20
 * lacks, by building a fetch `Response`: 20-40 ms that Lambda never spends). Lambda's arm64
 * CPU is not this machine's, so the machine's yardsticks are printed beside the figures.
 */
import { App } from 'aws-cdk-lib';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { SatelliteStack } from '../infra/satellite-stack';
import { median, ratio, spreadPercent } from './load';

const RUNS = 5;
const LAMBDA_NODE_MAJOR = 22;

/** A Node binary of the Lambda runtime's major version: this one, or one installed from npm once. */
function lambdaNode(root: string): string {
  if (process.versions.node.split('.')[0] === String(LAMBDA_NODE_MAJOR)) return process.execPath;
  const prefix = path.join(root, 'node_modules', '.cache', `satellite-node${LAMBDA_NODE_MAJOR}`);
  const binaryPackage = `node-${platform()}-${arch()}`;
  const binary = path.join(prefix, 'node_modules', binaryPackage, 'bin', 'node');
  if (!existsSync(binary)) {
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `${binaryPackage}@${LAMBDA_NODE_MAJOR}`], {
      stdio: 'inherit',
    });
  }
  return binary;
}

interface LambdaResource {
  Type: string;
  Properties: { Description?: string; Environment?: { Variables?: Record<string, unknown> } };
  Metadata?: Record<string, string>;
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
function loadOnce(node: string, bundle: string, nodeOptions = ''): Load {
  const script = `
    const boot = process.cpuUsage();
    const cpu0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
    require(${JSON.stringify(bundle)});
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(JSON.stringify({ wallMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000, bootCpuMs: (boot.user + boot.system) / 1000 }));`;
  const output = execFileSync(node, ['-e', script], {
    env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NODE_OPTIONS: nodeOptions },
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

  const node = lambdaNode(root);
  const figures: Record<string, number | string> = {
    machine: `${cpus()[0]?.model ?? 'unknown'} ×${cpus().length}, load ${loadavg()[0]!.toFixed(1)}`,
    node: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim(),
  };
  // The same-run baseline: a trivial bundle (one empty handler), loaded the same way.
  const trivial = path.join(outdir, 'trivial-bundle');
  mkdirSync(trivial);
  writeFileSync(path.join(trivial, 'index.js'), 'exports.handler = async () => ({});\n');
  const baseline = Array.from({ length: RUNS }, () => loadOnce(node, path.join(trivial, 'index.js')));
  const bootCpuMs = median(baseline.map((load) => load.bootCpuMs));
  figures['baseline: node start cpu ms'] = Number(bootCpuMs.toFixed(0));
  figures['baseline: node start cpu ms spread %'] = spreadPercent(baseline.map((load) => load.bootCpuMs));
  figures['baseline: trivial bundle load cpu ms'] = Number(median(baseline.map((load) => load.cpuMs)).toFixed(1));
  let slowest = 0;
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resource.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME) continue;
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (!assetPath) continue;
    const folder = path.isAbsolute(assetPath) ? assetPath : path.join(outdir, assetPath);
    const nodeOptions = resource.Properties.Environment.Variables.NODE_OPTIONS;
    const loads = Array.from({ length: RUNS }, () =>
      loadOnce(node, path.join(folder, 'index.js'), typeof nodeOptions === 'string' ? nodeOptions : ''),
    );
    const name = id.replace(/[0-9A-F]{8}$/, '');
    const cpuMs = median(loads.map((load) => load.cpuMs));
    slowest = Math.max(slowest, cpuMs);
    figures[`${name} load cpu ms`] = Number(cpuMs.toFixed(0));
    figures[`${name} load cpu ms by run`] = loads.map((load) => load.cpuMs.toFixed(0)).join(' / ');
    figures[`${name} load cpu ms spread %`] = spreadPercent(loads.map((load) => load.cpuMs));
    figures[`${name} load cpu / node start cpu`] = ratio(cpuMs, median(loads.map((load) => load.bootCpuMs)));
    figures[`${name} load wall ms`] = Number(median(loads.map((load) => load.wallMs)).toFixed(0));
    figures[`${name} zip KB`] = Math.round(zipBytes(folder) / 1024);
  }
  figures['slowest load cpu ms'] = Number(slowest.toFixed(0));
  figures['slowest load cpu / node start cpu'] = ratio(slowest, bootCpuMs);
  return Promise.resolve(figures);
}
