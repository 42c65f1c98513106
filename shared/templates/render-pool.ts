import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import type { PlatformConfig } from '../config';
import { AppError } from '../errors';
import { logger } from '../logger';
import {
  FAST_PATH_RENDER_MS,
  FAST_PATH_SLICE_MS,
  FAST_PATH_WASTE_MS,
  FAST_PATH_WINDOW_MS,
  fastPathLimits,
  LIMIT_FAILURES_PER_BATCH,
  RENDER_KILL_GRACE_MS,
  renderThreadLimits,
} from './limits';
import { renderTemplate, templateSyntaxError, type RenderResult, type TemplateError } from './render';
import { processCpuMs, WALL_CAP_FACTOR, WallBudget } from './render-clock';
import {
  PROGRESS_CPU_STARTED,
  PROGRESS_JOB,
  PROGRESS_SLOTS,
  PROGRESS_STARTED,
  serveRenders,
  skipped,
  wallClockMs,
  type RenderJob,
  type RenderRequest,
  type RenderResponse,
} from './render-worker';

/**
 * Every template a request or a send renders is rendered here. A render first runs on the
 * calling thread within the fast path's small bounds (`fastPathLimits`: 5 ms, 1 M units of
 * work; the thread's other work runs every 20 ms of them), where ordinary templates finish in microseconds without a thread hop; one that
 * reaches them is rendered again, with the full limits, on a small pool of threads, never on
 * the thread that serves requests and consumes queues:
 * - the sandbox stops almost every runaway itself (sizes, work, time) and answers an error;
 * - a thread whose heap passes its `resourceLimits` is ended by V8, and a job still running
 *   `RENDER_KILL_GRACE_MS` after its time (one long step the sandbox cannot interrupt) has
 *   its thread terminated. Either way that job answers TEMPLATE_LIMIT_EXCEEDED, the others of
 *   its batch are rendered again on a fresh thread, and the process carries on serving.
 * A bulk send hands a whole page of recipients over in one call: the thread hop is paid per
 * batch, and each parsed template stays cached in the thread that parsed it.
 */
const WORKER_FLAG = 'satelliteTemplateRenderThread';
const THREADS = Math.max(1, Math.min(4, availableParallelism()));
/** Below this many jobs per thread, sharing a batch costs more hops than it saves. */
const MIN_SHARE = 50;

interface ThreadData {
  readonly [WORKER_FLAG]: true;
  readonly progress: SharedArrayBuffer;
  readonly epoch: number;
}

function isThreadData(value: unknown): value is ThreadData {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[WORKER_FLAG] === true;
}

// This module is also the thread's entry (in a bundle, the bundle is): see `spawn`.
if (!isMainThread && isThreadData(workerData)) serveRenders(new Int32Array(workerData.progress), workerData.epoch);

/** The platform's configuration is one (`TEMPLATE_RENDER_MS`, `TEMPLATE_RENDER_HEAP_MB`). */
export type RenderOptions = Pick<PlatformConfig, 'templateRenderMs' | 'templateRenderHeapMb'>;

interface Task {
  readonly templates: readonly string[];
  readonly jobs: readonly RenderJob[];
  readonly renderMs: number;
  readonly heapMb: number;
  readonly results: (RenderResult | undefined)[];
  /** Indexes into `jobs` still to render (all of them, until a thread is lost mid-batch). */
  pending: number[];
  /** Jobs per template that ended a thread (a batch gives up on a template after `LIMIT_FAILURES_PER_BATCH`). */
  readonly threadsEnded: Map<number, number>;
  readonly resolve: (results: RenderResult[]) => void;
  readonly reject: (error: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly progress: Int32Array;
  ready: boolean;
  task?: Task;
  watchdog?: NodeJS.Timeout;
  /** Why V8 ended the thread, when it did (its heap limit). */
  failure?: string;
  gone: boolean;
}

const TYPESCRIPT_LOADER = ['tsx', 'cjs', 'api'].join('/');
const epoch = Math.round(wallClockMs());
const threads: Thread[] = [];
const queue: Task[] = [];
let requestIds = 0;

function spawn(heapMb: number): Thread {
  const progress = new Int32Array(new SharedArrayBuffer(PROGRESS_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  progress[PROGRESS_STARTED] = -1;
  const options = {
    workerData: { [WORKER_FLAG]: true, progress: progress.buffer, epoch } satisfies ThreadData,
    resourceLimits: { ...renderThreadLimits, maxOldGenerationSizeMb: heapMb },
    stdout: false,
    stderr: false,
  };
  // From TypeScript sources (tests, `npm start`), the thread compiles them as the process
  // does; a bundle (a Lambda) is plain JavaScript and never takes this branch, so tsx (a dev
  // dependency) is named through a variable that bundlers leave alone.
  const worker = __filename.endsWith('.ts')
    ? new Worker(`require(${JSON.stringify(require.resolve(TYPESCRIPT_LOADER))}).register(); require(${JSON.stringify(__filename)});`, {
        ...options,
        eval: true,
      })
    : new Worker(__filename, options);
  const thread: Thread = { worker, progress, ready: false, gone: false };
  worker.on('message', (message: RenderResponse | 'ready') => {
    if (message === 'ready') {
      thread.ready = true;
      return;
    }
    finish(thread, message);
  });
  worker.on('error', (error: Error & { code?: string }) => {
    thread.failure = error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `the render needed more than the ${heapMb} MB a render thread may hold` : undefined;
    if (!thread.failure) logger.error('template render thread failed', { error: error.message });
  });
  worker.on('exit', () => lost(thread));
  // After the listeners (adding one refs the thread again): an idle pool never keeps a process up.
  worker.unref();
  threads.push(thread);
  return thread;
}

function idleThread(heapMb: number): Thread | undefined {
  const idle = threads.find((thread) => !thread.gone && !thread.task);
  if (idle) return idle;
  return threads.filter((thread) => !thread.gone).length < THREADS ? spawn(heapMb) : undefined;
}

function dispatch(): void {
  for (let task = queue[0]; task; task = queue[0]) {
    const thread = idleThread(task.heapMb);
    if (!thread) return;
    queue.shift();
    thread.task = task;
    const request: RenderRequest = {
      id: (requestIds += 1),
      templates: task.templates,
      jobs: task.pending.map((index) => task.jobs[index] as RenderJob),
      renderMs: task.renderMs,
    };
    thread.worker.postMessage(request);
    // Ref'd while a batch is out, so a process awaiting it stays up; checked a few times per render time.
    thread.watchdog = setInterval(() => watch(thread), Math.max(20, Math.round(task.renderMs / 4)));
  }
}

function watch(thread: Thread): void {
  const started = Atomics.load(thread.progress, PROGRESS_STARTED);
  const task = thread.task;
  if (!task || started < 0) return;
  // As the render's own clock (render-clock.ts): its CPU budget, the process's CPU standing in for the thread's, capped in wall time.
  const wall = wallClockMs() - epoch - started;
  const cpu = processCpuMs() - Atomics.load(thread.progress, PROGRESS_CPU_STARTED);
  if (
    wall <= task.renderMs * WALL_CAP_FACTOR + RENDER_KILL_GRACE_MS &&
    (wall <= task.renderMs + RENDER_KILL_GRACE_MS || cpu <= task.renderMs + RENDER_KILL_GRACE_MS)
  )
    return;
  thread.failure = `the render did not stop within its ${task.renderMs} ms and was ended`;
  void thread.worker.terminate();
}

function release(thread: Thread): Task | undefined {
  const task = thread.task;
  thread.task = undefined;
  if (thread.watchdog) clearInterval(thread.watchdog);
  thread.watchdog = undefined;
  return task;
}

function settle(task: Task): void {
  task.resolve(
    task.results.map(
      (result) => result ?? { ok: false, error: { code: 'TEMPLATE_RENDER_FAILED', message: 'the template could not be rendered here' } },
    ),
  );
}

function finish(thread: Thread, response: RenderResponse): void {
  const task = release(thread);
  if (task) {
    task.pending.forEach((jobIndex, position) => {
      task.results[jobIndex] = response.results[position];
    });
    settle(task);
  }
  dispatch();
}

/** A thread ended (terminated, out of memory, or crashed): its current job fails, the rest of its batch goes back in front. */
function lost(thread: Thread): void {
  if (thread.gone) return;
  thread.gone = true;
  const index = threads.indexOf(thread);
  if (index !== -1) threads.splice(index, 1);
  const task = release(thread);
  if (task) {
    if (!thread.ready) {
      task.reject(unavailable());
    } else {
      const position = Atomics.load(thread.progress, PROGRESS_JOB);
      const jobIndex = task.pending[position];
      const job = jobIndex === undefined ? undefined : task.jobs[jobIndex];
      if (jobIndex !== undefined && job) {
        const error: TemplateError = { code: 'TEMPLATE_LIMIT_EXCEEDED', message: thread.failure ?? 'the render thread ended during this render' };
        task.results[jobIndex] = { ok: false, error };
        const ended = (task.threadsEnded.get(job.template) ?? 0) + 1;
        task.threadsEnded.set(job.template, ended);
        task.pending = task.pending.filter((index) => {
          if (index === jobIndex) return false;
          if (ended < LIMIT_FAILURES_PER_BATCH || task.jobs[index]?.template !== job.template) return true;
          task.results[index] = { ok: false, error: skipped(error) };
          return false;
        });
      }
      if (task.pending.length === 0) settle(task);
      else queue.unshift(task);
    }
  }
  dispatch();
}

/**
 * Renders each job (`variables` as the template's references) within `templateRenderMs`, on the
 * render threads. Template failures are results, never rejections; the promise rejects only
 * when no render thread can run at all.
 */
export async function renderTemplates(templates: readonly string[], jobs: readonly RenderJob[], options: RenderOptions): Promise<RenderResult[]> {
  const results: (RenderResult | undefined)[] = new Array<RenderResult | undefined>(jobs.length);
  const heavy = await renderFast(templates, jobs, results);
  if (heavy.length > 0) {
    const rendered = await renderOnThreads(
      templates,
      heavy.map((index) => jobs[index] as RenderJob),
      options,
    );
    heavy.forEach((jobIndex, position) => {
      results[jobIndex] = rendered[position];
    });
  }
  return results as RenderResult[];
}

/**
 * Time the fast path spent on renders it then gave up on, per window: past
 * `FAST_PATH_WASTE_MS` in a window, every render goes to the threads until the next one, so
 * templates made to fail late on the fast path (all different, to dodge `heavyTemplates`)
 * can never take more than that share of the calling thread.
 */
let windowStarted = 0;
let wasted = 0;

function fastPathOpen(now: number): boolean {
  if (now - windowStarted > FAST_PATH_WINDOW_MS) {
    windowStarted = now;
    wasted = 0;
  }
  return wasted < FAST_PATH_WASTE_MS;
}

/** Templates the fast path gave up on lately: they go straight to the threads. */
const heavyTemplates = new Set<string>();
// Few: each holds a template text (up to 256 K characters) alive.
const HEAVY_TEMPLATES_KEPT = 32;

/**
 * Renders what it can on this thread within `fastPathLimits`, filling `results`, and lets
 * the thread's other work run every `FAST_PATH_SLICE_MS`; answers the indexes of the jobs
 * left for the threads (those of a template that reached a fast-path bound).
 */
async function renderFast(templates: readonly string[], jobs: readonly RenderJob[], results: (RenderResult | undefined)[]): Promise<number[]> {
  const heavy: number[] = [];
  let sliceStarted = performance.now();
  for (let index = 0; index < jobs.length; index += 1) {
    const job = jobs[index] as RenderJob;
    const source = templates[job.template] ?? '';
    let now = performance.now();
    if (now - sliceStarted > FAST_PATH_SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      now = sliceStarted = performance.now();
    }
    if (heavyTemplates.has(source) || !fastPathOpen(now)) {
      heavy.push(index);
      continue;
    }
    const clock = new WallBudget(FAST_PATH_RENDER_MS, now);
    const error = job.variables ? undefined : templateSyntaxError(source, clock);
    const result: RenderResult = job.variables
      ? renderTemplate(source, job.variables, { limits: fastPathLimits, clock })
      : error
        ? { ok: false, error }
        : { ok: true, output: '' };
    if (result.ok || result.error.code !== 'TEMPLATE_LIMIT_EXCEEDED') {
      results[index] = result;
      continue;
    }
    heavy.push(index);
    wasted += performance.now() - now;
    heavyTemplates.add(source);
    if (heavyTemplates.size > HEAVY_TEMPLATES_KEPT) heavyTemplates.delete(heavyTemplates.values().next().value as string);
  }
  return heavy;
}

async function renderOnThreads(templates: readonly string[], jobs: readonly RenderJob[], options: RenderOptions): Promise<RenderResult[]> {
  if (jobs.length < 2 * MIN_SHARE) return renderBatch(templates, jobs, options);
  // A large batch is shared among the threads: each renders its part while the next part is still being handed over.
  const share = Math.max(MIN_SHARE, Math.ceil(jobs.length / THREADS));
  const parts: Promise<RenderResult[]>[] = [];
  for (let start = 0; start < jobs.length; start += share) parts.push(renderBatch(templates, jobs.slice(start, start + share), options));
  return (await Promise.all(parts)).flat();
}

function renderBatch(templates: readonly string[], jobs: readonly RenderJob[], options: RenderOptions): Promise<RenderResult[]> {
  if (jobs.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    queue.push({
      templates,
      jobs,
      renderMs: options.templateRenderMs,
      heapMb: options.templateRenderHeapMb,
      results: [],
      pending: jobs.map((_, index) => index),
      threadsEnded: new Map(),
      resolve,
      reject,
    });
    dispatch();
  });
}

export async function renderOne(source: string, variables: Readonly<Record<string, unknown>>, options: RenderOptions): Promise<RenderResult> {
  const [result] = await renderTemplates([source], [{ template: 0, variables }], options);
  return result as RenderResult;
}

/** Parses each template on the render threads (parse time bounded like a render); undefined where it parses. */
export async function templateErrors(sources: readonly string[], options: RenderOptions): Promise<(TemplateError | undefined)[]> {
  const results = await renderTemplates(
    sources,
    sources.map((_, template) => ({ template })),
    options,
  );
  return results.map((result) => (result.ok ? undefined : result.error));
}

/**
 * Ends every render thread (a local stack stopping, a test file done); batches still out
 * fail with TEMPLATE_RENDERER_UNAVAILABLE. The next render starts threads again.
 */
export async function stopRenderThreads(): Promise<void> {
  const stopping = threads.splice(0, threads.length);
  for (const task of queue.splice(0, queue.length)) task.reject(unavailable());
  await Promise.all(
    stopping.map((thread) => {
      thread.gone = true;
      const task = release(thread);
      task?.reject(unavailable());
      return thread.worker.terminate();
    }),
  );
}

function unavailable(): AppError {
  return new AppError('unavailable', 'TEMPLATE_RENDERER_UNAVAILABLE', 'the template renderer is not running');
}

/** Render threads working on a batch right now (for operators' metrics and tests that watch a render run). */
export function busyRenderThreads(): number {
  return threads.filter((thread) => thread.task !== undefined).length;
}
