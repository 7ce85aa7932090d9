// An apply's finish reaches the shop's record before its last writes are answered, so that no round trip is left
// after them (at 500 ms a call, half a second of any apply, a third of a small one). Once every batch has sent its
// first call, the finish is written as a promise: "this apply's writes are over by P", P a few seconds ahead. The writes
// still out are answered long before P; should the apply still run shortly before P (a slow answer, a retry, a stale
// row's second call), it claims the shop again (running, no finish) and every write waits for that claim first; the
// finish is then written once the last write is answered, as without a promise. Another install's snapshot read
// before P is refused as if this apply were still running, which it may be.
import type { ShopifyClient } from '../../sources/shopify/client.js';
import type { Plan } from '../model.js';
import { claimShop, releaseShop, type HeldRecord } from './installs.js';

/** How far ahead the finish is promised: the writes out when the last batch starts take a second or two. */
export const WRITES_OVER_WITHIN_MS = 5000;
/** An apply still running this long before its promise claims the shop again: time for one round trip to land. */
export const CLAIM_AGAIN_BEFORE_MS = 2000;

export interface FinishClock {
  now(): Date;
  setTimer(run: () => void, ms: number): () => void;
}

const realClock: FinishClock = {
  now: () => new Date(),
  setTimer(run, ms) {
    const timer = setTimeout(run, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export class ShopFinish {
  private promised: Promise<HeldRecord> | undefined;
  /** The promised time (ms). */
  private by = Infinity;
  private claimedAgain: Promise<HeldRecord> | undefined;
  private cancelTimer = (): void => undefined;

  constructor(
    private readonly client: ShopifyClient,
    private readonly plan: Pick<Plan, 'digest' | 'baseline'>,
    private readonly install: string,
    /** The record as the claim wrote it. */
    private readonly claimed: HeldRecord,
    private readonly clock: FinishClock = realClock,
  ) {}

  private lastStarted: number | undefined;
  private lastSent = false;
  private everyBatchStarted = false;

  /** A batch starts (they start in plan order, and their first calls are paced in that order). */
  starting(batchNo: number): void {
    this.lastStarted = batchNo;
    this.lastSent = false;
  }

  /** A call of this batch goes. */
  sent(batchNo: number): void {
    if (batchNo !== this.lastStarted || this.lastSent) return;
    this.lastSent = true;
    if (this.everyBatchStarted) this.promise();
  }

  /** No batch is left to start. */
  allStarted(): void {
    this.everyBatchStarted = true;
    if (this.lastSent || this.lastStarted === undefined) this.promise();
  }

  /** Every batch has sent its first call: the finish is written now, promised for WRITES_OVER_WITHIN_MS ahead. */
  private promise(): void {
    if (this.promised) return;
    this.by = this.clock.now().getTime() + WRITES_OVER_WITHIN_MS;
    this.promised = releaseShop(this.client, this.plan, this.install, this.claimed, () => this.clock.now(), new Date(this.by));
    this.promised.catch(() => undefined); // settled in done()
    this.cancelTimer = this.clock.setTimer(() => this.claimAgain(), WRITES_OVER_WITHIN_MS - CLAIM_AGAIN_BEFORE_MS);
  }

  private claimAgain(): void {
    this.claimedAgain ??= (async () => {
      const held = await this.promised!.catch(() => this.claimed);
      return claimShop(this.client, this.plan, this.install, held, () => this.clock.now());
    })();
    this.claimedAgain.catch(() => undefined); // a write waiting on it fails with its error
  }

  /**
   * Before each write: once the apply nears its promise, writes go only when the shop is claimed again (the clock
   * is read too: a timer runs late when the event loop is busy).
   */
  readonly beforeWrite = (): Promise<unknown> | undefined => {
    if (!this.claimedAgain && this.clock.now().getTime() >= this.by - CLAIM_AGAIN_BEFORE_MS) this.claimAgain();
    return this.claimedAgain;
  };

  /** Every write is answered: the record as the finish left it (written now unless the promise holds). */
  async done(): Promise<HeldRecord> {
    this.cancelTimer();
    // Every write was answered before now: the promise held if now is before it.
    if (this.promised && !this.claimedAgain && this.clock.now().getTime() < this.by) {
      try {
        return await this.promised;
      } catch {
        // Not known to be written: written below, as of now.
      }
    }
    // Written from the record as last written (compare-and-swap), whichever of these that was.
    const held = await (this.claimedAgain ?? this.promised ?? Promise.resolve(this.claimed)).catch(() => this.claimed);
    return releaseShop(this.client, this.plan, this.install, held, () => this.clock.now());
  }

  /**
   * The apply failed: the record must not say it finished (its open attempts may still be applied by a resume).
   * A promise already written is taken back by claiming the shop again; the error is the apply's.
   */
  async failed(): Promise<void> {
    this.cancelTimer();
    if (!this.promised) return;
    this.claimAgain();
    await this.claimedAgain!.catch(() => undefined);
  }
}
