/**
 * Every bound a Velocity template works within, declared once: the API's schemas, the
 * sandbox, the render workers and the docs' table (docs/messaging.md) all read these.
 * The render time is configuration (`TEMPLATE_RENDER_MS`), read from `PlatformConfig`.
 */

/**
 * Characters of one template field (subject, body, translation, preview). Real HTML emails
 * are 20–150 KB with their inline CSS (Gmail clips a message at 102 KB); this leaves room
 * for Velocity logic around such a body.
 */
export const MAX_TEMPLATE_CHARS = 262_144;

/** `#if`/`#foreach`/`#macro`… blocks inside one another (real templates nest a handful). */
export const MAX_BLOCK_DEPTH = 64;

export interface SandboxLimits {
  /** Items one `#foreach` (or one `[a..b]` range) may walk. */
  readonly maxLoopIterations: number;
  /** `#foreach` items across the whole render. */
  readonly maxTotalIterations: number;
  /** Template nodes evaluated across the whole render. */
  readonly maxSteps: number;
  /** Characters of any one value (a method's result, a `#set` value, a string) or of the output. */
  readonly maxValueChars: number;
  /** Items of any one list or map a template builds (`add`, `put`, `split`, `keySet` …). */
  readonly maxCollectionItems: number;
  /**
   * Work units across the whole render: each method call is charged the characters or
   * items it touches (its receiver, arguments and result), each piece of output its length,
   * so a few calls on large values end the render long before its time runs out.
   */
  readonly maxWork: number;
  readonly maxMacroDepth: number;
}

export const defaultSandboxLimits: SandboxLimits = {
  maxLoopIterations: 10_000,
  maxTotalIterations: 100_000,
  maxSteps: 2_000_000,
  maxValueChars: 2_000_000,
  maxCollectionItems: 100_000,
  maxWork: 50_000_000,
  maxMacroDepth: 32,
};

/**
 * The render threads' own bounds (Node `resourceLimits`; the heap is `TEMPLATE_RENDER_HEAP_MB`):
 * a template that exhausts them ends its thread, not the process.
 */
export const renderThreadLimits = {
  maxYoungGenerationSizeMb: 16,
  stackSizeMb: 4,
} as const;

// The render budget's defaults are configuration (`TEMPLATE_RENDER_MS`, `TEMPLATE_RENDER_HEAP_MB`), declared in config.ts.
export { DEFAULT_RENDER_HEAP_MB, DEFAULT_TEMPLATE_RENDER_MS } from '../config';

/**
 * A render that does not stop itself at its time (one long step inside the engine) has its
 * thread terminated this much later, and a new thread takes its place.
 */
export const RENDER_KILL_GRACE_MS = 250;

/**
 * A template that exceeded its limits for this many recipients of one batch (a page of a
 * bulk send) is not rendered for the rest of that batch: they fail with the same error at
 * once, so a runaway template costs a page seconds, not a second per recipient.
 */
export const LIMIT_FAILURES_PER_BATCH = 3;

/**
 * The fast path: a render first runs on the calling thread within these much smaller bounds
 * (a few milliseconds, a few megabytes: less than a routine database query holds a thread),
 * which the seed's templates stay far inside. One that reaches any of them is rendered again
 * on the render threads with the full limits. No value the fast path can build comes near
 * what V8 cannot hold (every character built is charged to its work).
 */
export const fastPathLimits: SandboxLimits = { ...defaultSandboxLimits, maxWork: 1_000_000, maxSteps: 20_000, maxTotalIterations: 5_000 };
/** Wall time one fast-path render (its parse included) may take. */
export const FAST_PATH_RENDER_MS = 5;
/** The calling thread renders a batch in slices of this much wall time, letting its other work (requests) run in between. */
export const FAST_PATH_SLICE_MS = 20;
/** At most this much of the calling thread's time per window goes to fast-path renders that end up on the threads anyway. */
export const FAST_PATH_WASTE_MS = 100;
export const FAST_PATH_WINDOW_MS = 1_000;
