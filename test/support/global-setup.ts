import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

declare global {
  var __satelliteServices: ChildProcess | undefined;
}

/** Starts the shared test services (embedded PostgreSQL, SQS server) once per `jest` run. */
export default async function globalSetup(): Promise<void> {
  const script = path.join(__dirname, 'services-process.ts');
  // Lambda runs Node 22; the SDK's notice about Node 20 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
  });
  globalThis.__satelliteServices = child;
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`test services exited with code ${code}`)));
  });
  const services = JSON.parse(line) as { postgresUrl: string; sqsEndpoint: string };
  process.env.SATELLITE_TEST_POSTGRES_URL = services.postgresUrl;
  process.env.SATELLITE_TEST_SQS_ENDPOINT = services.sqsEndpoint;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
}
