// How many calls are in flight: grows while the cost bucket has points to spare (each answer that did
// not wait for the bucket lets one more call start: slow start, as TCP does), halves on THROTTLED. With
// 500 ms calls a Standard shop needs ~5 in flight to use its 100 points/s, a Plus shop ~50, and more to
// drain a full bucket quickly; the bucket's pacing keeps any number of them within the rate limit.

export interface LaneOptions {
  initial?: number;
  max?: number;
  now?: () => number;
}

/**
 * The default cap. At 500 ms a call, 128 in flight spend up to 2,560 points/s: above a Plus shop's
 * restore rate (1,000/s) by enough to drain its 20,000-point bucket within a 20 s bound, while the rows
 * held in flight stay a few tens of MB. More sockets only meant more connection resets (measured: 208
 * retries of 4,000 calls at 256, none at 64, against the emulator at zero latency).
 */
export const DEFAULT_MAX_IN_FLIGHT = 128;

export class Lanes {
  private current: number;
  readonly max: number;
  /** The highest limit reached (for the report). */
  peak: number;

  private readonly now: () => number;
  private lastCut = -Infinity;

  constructor(options: LaneOptions = {}) {
    this.max = options.max ?? DEFAULT_MAX_IN_FLIGHT;
    this.now = options.now ?? Date.now;
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

  /**
   * A call timed out or lost its connection: the server or the path to it is overloaded. Halves, once a
   * second at most (a burst of resets is one event, not ten halvings).
   */
  congested(): void {
    this.halve();
  }

  /**
   * Shopify said THROTTLED: the bucket model ran ahead of the real bucket (another app shares it, or the
   * model missed something; the status that came with the answer corrected it): back off, once a second at
   * most, as above: the calls out when the model erred answer together, and sixteen of them cut 128 lanes to 1.
   */
  throttled(): void {
    this.halve();
  }

  private halve(): void {
    if (this.now() - this.lastCut < 1000) return;
    this.lastCut = this.now();
    this.current = Math.max(1, Math.floor(this.current / 2));
  }
}

/**
 * Runs `work` on every item, at most `limit()` at a time (read before each start, so it may change while
 * running; the first one starts a turn of the event loop before the others). Items are taken from the iterable only as they start, so a generator is read as it goes. The
 * first failure stops new starts; the ones running finish; then it is thrown.
 */
export async function runPool<T>(items: Iterable<T>, limit: () => number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  const running = new Set<Promise<void>>();
  let started = 0;
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
      // The first item runs alone for a turn of the event loop: its call goes out before the others of the
      // first wave are read and recorded (128 batches take tens of milliseconds, with a full bucket idle).
      if (started++ === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (running.size > 0) await Promise.race(running);
  }
  if (failure) throw failure.error;
}
