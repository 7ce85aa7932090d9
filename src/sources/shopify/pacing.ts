// Pure pacing and backoff decisions, kept apart from I/O so they can be tested with a fake clock.

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/**
 * Local model of Shopify's leaky bucket: the last status the server reported, refilled by
 * restoreRate since then, minus what this process has sent since (reserved, not yet answered).
 */
export class CostBucket {
  private status: ThrottleStatus | undefined;
  private observedAt = 0;

  /**
   * `slackMs` of refill is asked for on top of the cost: the status was computed on the server a
   * little before it reached us, so the model runs slightly ahead of the real bucket.
   */
  constructor(
    private readonly now: () => number,
    private readonly slackMs = 50,
  ) {}

  get known(): ThrottleStatus | undefined {
    return this.status;
  }

  /** Replaces the model with what the server just said. */
  observe(status: ThrottleStatus): void {
    this.status = { ...status };
    this.observedAt = this.now();
  }

  /** Points expected in the bucket now (undefined until the server has answered once). */
  available(): number | undefined {
    if (!this.status) return undefined;
    const { maximumAvailable, currentlyAvailable, restoreRate } = this.status;
    const elapsedSeconds = Math.max(0, this.now() - this.observedAt) / 1000;
    return Math.min(maximumAvailable, currentlyAvailable + restoreRate * elapsedSeconds);
  }

  /**
   * Milliseconds to wait before a call expected to cost `cost` points finds them in the bucket.
   * A cost above the bucket's maximum can never be waited for: it goes at a full bucket and the
   * server decides.
   */
  waitFor(cost: number): number {
    const available = this.available();
    if (available === undefined || !this.status || cost <= 0) return 0;
    const { maximumAvailable, restoreRate } = this.status;
    if (restoreRate <= 0) return 0;
    const needed = Math.min(cost + (restoreRate * this.slackMs) / 1000, maximumAvailable) - available;
    if (needed <= 0) return 0;
    return Math.ceil((needed / restoreRate) * 1000);
  }

  /** Takes `cost` points out of the model when a call is sent, so concurrent callers queue behind it. */
  reserve(cost: number): void {
    if (!this.status || cost <= 0) return;
    const available = this.available() ?? 0;
    this.status = { ...this.status, currentlyAvailable: available - cost };
    this.observedAt = this.now();
  }
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base · 2^(retry-1))]. */
export function backoffMs(retry: number, random: () => number, baseMs = 250, capMs = 20_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** The refill a THROTTLED answer implies: time until `requested` points are back. */
export function refillWaitMs(status: ThrottleStatus | undefined, requested: number | undefined): number | undefined {
  if (!status || requested === undefined || status.restoreRate <= 0) return undefined;
  const missing = Math.min(requested, status.maximumAvailable) - status.currentlyAvailable;
  return Math.max(0, Math.ceil((missing / status.restoreRate) * 1000));
}

/** Retry-After (seconds or an HTTP date) in ms, or undefined. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
