/** Milliseconds on the system's monotonic clock: comparable between processes of one machine. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
