import { RateLimited } from '../errors';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const MAX_BUCKETS = 10_000;

/**
 * Token bucket per key (an account), held by the function instance. Bursts up to one
 * second's worth; steady state is `perSecond`. Each Lambda instance limits on its own,
 * so the account-wide ceiling is this rate times the concurrent instances.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  take(key: string, perSecond: number, nowMs: number): void {
    if (perSecond <= 0) return;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      bucket = { tokens: perSecond, updatedAt: nowMs };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((nowMs - bucket.updatedAt) / 1000) * perSecond);
    bucket.updatedAt = nowMs;
    if (bucket.tokens < 1) throw new RateLimited((1 - bucket.tokens) / perSecond);
    bucket.tokens -= 1;
  }
}
