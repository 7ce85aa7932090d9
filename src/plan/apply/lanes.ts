// How many calls are in flight: grows while the cost bucket has points to spare (each answer that did
// not wait for the bucket lets one more call start: slow start, as TCP does), halves on THROTTLED. With
// 500 ms calls a Standard shop needs ~5 in flight to use its 100 points/s, a Plus shop ~50, and more to
// drain a full bucket quickly; the bucket's pacing keeps any number of them within the rate limit.

export interface LaneOptions {
  initial?: number;
  max?: number;
}

export class Lanes {
  private current: number;
  readonly max: number;
  /** The highest limit reached (for the report). */
  peak: number;

  constructor(options: LaneOptions = {}) {
    this.max = options.max ?? 256;
    this.current = Math.min(this.max, options.initial ?? 4);
    this.peak = this.current;
  }

  get limit(): number {
    return this.current;
  }

  /** At least `n` at once (not above the cap): what the bucket is known to take at once. */
  widen(n: number): void {
    this.current = Math.max(this.current, Math.min(this.max, Math.floor(n)));
    this.peak = Math.max(this.peak, this.current);
  }

  /** An answer came: if the call had not waited for the bucket, the bucket could take more at once. */
  answered(waitedForBucketMs: number): void {
    if (waitedForBucketMs > 0 || this.current >= this.max) return;
    this.current++;
    this.peak = Math.max(this.peak, this.current);
  }

  /** Shopify said THROTTLED: the model ran ahead of the real bucket (another app shares it): back off. */
  throttled(): void {
    this.current = Math.max(1, Math.floor(this.current / 2));
  }
}

/**
 * Runs `work` on every item, at most `limit()` at a time (read before each start, so it may change while
 * running). Items are taken from the iterable only as they start, so a generator is read as it goes. The
 * first failure stops new starts; the ones running finish; then it is thrown.
 */
export async function runPool<T>(items: Iterable<T>, limit: () => number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  const running = new Set<Promise<void>>();
  while ((!exhausted && !failure) || running.size > 0) {
    while (!exhausted && !failure && running.size < Math.max(1, limit())) {
      const next = iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const task: Promise<void> = work(next.value)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => running.delete(task));
      running.add(task);
    }
    if (running.size > 0) await Promise.race(running);
  }
  if (failure) throw failure.error;
}
