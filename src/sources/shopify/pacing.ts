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
   * those twice (and leave points unspent). Two things make it wrong, and the status corrects both:
   * - The model holds more than the shop does: another app spends from the bucket; or, while the shop's
   *   bucket was full, refill the model counted from a call's send was lost until the call arrived (a slow
   *   first wave then left the model ahead for the rest of the run, and the calls it let through early
   *   answered THROTTLED). The model comes down to the status. Only that far: the other calls out are in
   *   the status or will be charged when they arrive, as the model counts them already; taking them off
   *   again (as this did before) stalled the pacer for seconds after each such answer.
   * - The status shows more even with `unseen` taken off (every call that may have arrived after the status
   *   was taken: on separate connections, any call out while this one was): the model rises to that.
   * A guess, as Shopify does not say when the status is taken: once the call has run (its actual cost is
   * known then), so it is barely older than the answer, as in the emulator. Were it older, the refill since
   * would make up for the calls sent meanwhile while the pacer waits for the bucket.
   */
  answered(status: ThrottleStatus, unseen: number): void {
    const model = this.available();
    const lowest = { ...status, currentlyAvailable: status.currentlyAvailable - unseen };
    if (model === undefined || !this.status || unseen <= 0) return this.observe(lowest);
    const sameBucket = status.maximumAvailable === this.status.maximumAvailable && status.restoreRate === this.status.restoreRate;
    if (!sameBucket || lowest.currentlyAvailable > model) return this.observe(lowest);
    if (status.currentlyAvailable < model) this.observe(status);
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

/**
 * The local bucket model, shared by concurrent callers: pacing decisions are taken one at a time (a
 * gate); each call's points are reserved when it goes and squared with its real charge when answered.
 */
export function createPacer(bucket: CostBucket, sleep: (ms: number) => Promise<void>, onWait: () => void = () => undefined) {
  let gate: Promise<unknown> = Promise.resolve();
  /** Points of every call answered so far: those answered while a call was out may be missing from its status. */
  let answeredPoints = 0;
  let sent = 0;
  /** Calls in flight: the points each reserved, and answeredPoints when it went. */
  const inFlight = new Map<number, { points: number; answeredBefore: number }>();
  return {
    /**
     * `aheadOfQueue`: waits for its points but not behind the calls queued for the bucket (a rare call they may be
     * waiting on); the one queued call already asleep may then overdraw by its cost, and a THROTTLED answer corrects it.
     */
    pace(expected: number, aheadOfQueue = false): Promise<{ waited: number; ticket: number }> {
      const go = async () => {
        let waited = 0;
        for (let wait; (wait = bucket.waitFor(expected)) > 0 && (waited === 0 || aheadOfQueue); waited += wait) {
          onWait();
          await sleep(wait);
        }
        bucket.reserve(expected);
        const ticket = ++sent;
        inFlight.set(ticket, { points: expected, answeredBefore: answeredPoints });
        return { waited, ticket };
      };
      if (aheadOfQueue) return go();
      const turn = gate.then(go);
      gate = turn.catch(() => undefined);
      return turn;
    },
    /** A paced call that did not go after all: its points back, as if never paced. */
    cancel(ticket: number): void {
      const call = inFlight.get(ticket);
      inFlight.delete(ticket);
      if (call) bucket.refund(call.points);
    },
    /** `charged`: the points the server took (0 for a THROTTLED answer); `status`: its bucket when it answered. */
    settle(ticket: number, charged: number | undefined, status: ThrottleStatus | undefined): void {
      const call = inFlight.get(ticket);
      inFlight.delete(ticket);
      if (!call) return;
      if (charged !== undefined) bucket.refund(call.points - charged);
      answeredPoints += call.points;
      if (!status) return;
      // The calls the status may not count: those still out, and those answered since this one went.
      let unseen = answeredPoints - call.answeredBefore - call.points;
      for (const other of inFlight.values()) unseen += other.points;
      bucket.answered(status, unseen);
    },
  };
}

/** The refill a THROTTLED answer implies: time until `requested` points are back. */
export function refillWaitMs(status: ThrottleStatus | undefined, requested: number | undefined): number | undefined {
  if (!status || requested === undefined || status.restoreRate <= 0) return undefined;
  const missing = Math.min(requested, status.maximumAvailable) - status.currentlyAvailable;
  return Math.max(0, Math.ceil((missing / status.restoreRate) * 1000));
}

export { backoffMs, retryAfterMs } from '../retry.js';
