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

  /**
   * An answer's status. Alone in the bucket the model is right: it took out every call when sent, and the
   * server counts each once it arrives, so reading the status less the calls still in flight would count
   * those twice (and leave points unspent). The status replaces the model when it shows less than the
   * model allows (another app spends from the bucket), or more even with `unseen` taken off (the points
   * of the calls that may have arrived after the status was taken: on separate connections, any call out
   * while this one was). `ageMs`: how old the status may be (the call's latency).
   */
  answered(status: ThrottleStatus, unseen: number, ageMs: number): void {
    const model = this.available();
    const lowest = { ...status, currentlyAvailable: status.currentlyAvailable - unseen };
    if (model === undefined || !this.status || unseen <= 0) return this.observe(lowest);
    const sameBucket = status.maximumAvailable === this.status.maximumAvailable && status.restoreRate === this.status.restoreRate;
    const tolerance = Math.max(2, (status.restoreRate * this.slackMs) / 1000);
    const othersSpent = status.currentlyAvailable + (status.restoreRate * Math.max(0, ageMs)) / 1000 + tolerance < model;
    if (!sameBucket || othersSpent || lowest.currentlyAvailable > model) this.observe(lowest);
  }

  /** Gives back what a call reserved and was not charged (its actual cost was lower, or it was refused). */
  refund(points: number): void {
    if (!this.status || points === 0) return;
    const available = this.available() ?? 0;
    this.status = { ...this.status, currentlyAvailable: Math.min(this.status.maximumAvailable, available + points) };
    this.observedAt = this.now();
  }

  /** Takes `cost` points out of the model when a call is sent, so concurrent callers queue behind it. */
  reserve(cost: number): void {
    if (!this.status || cost <= 0) return;
    const available = this.available() ?? 0;
    this.status = { ...this.status, currentlyAvailable: available - cost };
    this.observedAt = this.now();
  }
}

/** The refill a THROTTLED answer implies: time until `requested` points are back. */
export function refillWaitMs(status: ThrottleStatus | undefined, requested: number | undefined): number | undefined {
  if (!status || requested === undefined || status.restoreRate <= 0) return undefined;
  const missing = Math.min(requested, status.maximumAvailable) - status.currentlyAvailable;
  return Math.max(0, Math.ceil((missing / status.restoreRate) * 1000));
}

export { backoffMs, retryAfterMs } from '../retry.js';
