import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { LIMIT_FAILURES_PER_BATCH } from './limits';
import { CpuBudget, recentProcessCpuMs } from './render-clock';
import { renderTemplate, templateSyntaxError, type RenderResult, type TemplateError } from './render';

/**
 * The render thread's side of render-pool.ts: it parses (and keeps parsed) and renders the
 * jobs it is sent, each within its time, and says in shared memory which job it is on and
 * since when, so the pool can end the thread if one job does not stop by itself.
 */
export interface RenderJob {
  /** Index into the request's `templates`. */
  readonly template: number;
  /** Absent: only check that the template parses. */
  readonly variables?: Readonly<Record<string, unknown>>;
}

export interface RenderRequest {
  readonly id: number;
  readonly templates: readonly string[];
  readonly jobs: readonly RenderJob[];
  readonly renderMs: number;
}

export interface RenderResponse {
  readonly id: number;
  readonly results: readonly RenderResult[];
}

/** Slots of the thread's shared progress array. */
export const PROGRESS_JOB = 0;
/** Milliseconds since the pool's epoch at which the current job started; -1 when idle. */
export const PROGRESS_STARTED = 1;
/** The process's CPU milliseconds when the current job started. */
export const PROGRESS_CPU_STARTED = 2;
export const PROGRESS_SLOTS = 3;

export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export function serveRenders(progress: Int32Array, epoch: number): void {
  const port = parentPort;
  if (!port) return;
  const renderJob = (request: RenderRequest, job: RenderJob, index: number): RenderResult => {
    const clock = new CpuBudget(request.renderMs);
    Atomics.store(progress, PROGRESS_JOB, index);
    Atomics.store(progress, PROGRESS_CPU_STARTED, Math.floor(recentProcessCpuMs()));
    Atomics.store(progress, PROGRESS_STARTED, Math.round(wallClockMs() - epoch));
    const source = request.templates[job.template] ?? '';
    if (!job.variables) {
      const error = templateSyntaxError(source, clock);
      return error ? { ok: false, error } : { ok: true, output: '' };
    }
    // Read-only without freezing: the sandbox lets a template change only what it built.
    return renderTemplate(source, job.variables, { clock });
  };
  port.on('message', (request: RenderRequest) => {
    const overLimit = new Map<number, { count: number; error: TemplateError }>();
    const results = request.jobs.map((job, index): RenderResult => {
      const failures = overLimit.get(job.template);
      if (failures && failures.count >= LIMIT_FAILURES_PER_BATCH) return { ok: false, error: skipped(failures.error) };
      const result = renderJob(request, job, index);
      if (!result.ok && result.error.code === 'TEMPLATE_LIMIT_EXCEEDED')
        overLimit.set(job.template, { count: (failures?.count ?? 0) + 1, error: result.error });
      return result;
    });
    Atomics.store(progress, PROGRESS_STARTED, -1);
    const response: RenderResponse = { id: request.id, results };
    port.postMessage(response);
  });
  port.postMessage('ready');
}

/** The answer for the rest of a batch once a template has failed its limits often enough in it. */
export function skipped(error: TemplateError): TemplateError {
  return {
    ...error,
    message: `not rendered: this template exceeded its limits for ${LIMIT_FAILURES_PER_BATCH} recipients of the same batch (${error.message})`,
  };
}
