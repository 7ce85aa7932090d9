// An apply's finish reaches the shop's record before its last writes are answered, so that no round trip is left
// after them (at 500 ms a call, half a second of any apply, a third of a small one). Once the last batch has started
// and sent its first call, the finish is written as a promise: "this apply's writes are over by P", P a few seconds
// ahead. The writes still out are answered long before P; should the apply still run shortly before P (a slow answer,
// a retry, a stale row's second call), it claims the shop again (running, no finish), and every write checks, right
// before it goes (once paced), and waits for that claim; the finish is then written once the last write is answered,
// as without a promise. Another install's snapshot read before P is refused as if this apply were still running.
import { SourceError } from '../../errors.js';
import type { ShopifyClient } from '../../sources/shopify/client.js';
import type { Plan } from '../model.js';
import { claimShop, releaseShop, reopenShop, type HeldRecord } from './installs.js';

/** How far ahead the finish is promised: the writes out when the last batch's call goes take a second or two. */
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
  private lastStarted: number | undefined;
  private lastSent = false;
  private everyBatchStarted = false;

  constructor(
    private readonly client: ShopifyClient,
    private readonly plan: Pick<Plan, 'digest' | 'baseline'>,
    private readonly install: string,
    /** The record as the claim wrote it. */
    private readonly claimed: HeldRecord,
    private readonly clock: FinishClock = realClock,
  ) {}

  /** A batch starts (they start in plan order, and their first calls are paced in that order). */
  starting(batchNo: number): void {
    this.lastStarted = batchNo;
    this.lastSent = false;
  }

  /** A call of this batch goes (or it has none to send: an earlier run finished it). */
  sent(batchNo: number): void {
    if (batchNo !== this.lastStarted || this.lastSent) return;
    this.lastSent = true;
    if (this.everyBatchStarted) this.promise();
  }

  /** No batch is left to start. Without any, nothing is promised: the finish is written as of the end. */
  allStarted(): void {
    this.everyBatchStarted = true;
    if (this.lastSent) this.promise();
  }

  /** The last batch's call has gone: the finish is written now, promised for WRITES_OVER_WITHIN_MS ahead. */
  private promise(): void {
    if (this.promised) return;
    this.by = this.clock.now().getTime() + WRITES_OVER_WITHIN_MS;
    this.promised = releaseShop(this.client, this.plan, this.install, this.claimed, () => this.clock.now(), new Date(this.by));
    this.promised.catch(() => undefined); // settled in done()
    this.cancelTimer = this.clock.setTimer(() => this.claimAgain(), WRITES_OVER_WITHIN_MS - CLAIM_AGAIN_BEFORE_MS);
  }

  /** Running again, as a claim: refused if another install applied meanwhile (this apply's writes must stop then). */
  private claimAgain(): void {
    this.claimedAgain ??= (async () => {
      const held = await this.promised!.catch(() => this.claimed);
      return claimShop(this.client, this.plan, this.install, held, () => this.clock.now());
    })();
    this.claimedAgain.catch(() => undefined); // a write waiting on it fails with its error
  }

  /**
   * Right before each write goes: once the apply nears its promise, it waits for the shop to be claimed again (the
   * clock is read too: a timer runs late when the event loop is busy). A failed claim fails the write, which was not
   * sent (not an unknown outcome).
   */
  readonly beforeWrite = (): Promise<unknown> | undefined => {
    if (!this.claimedAgain && this.clock.now().getTime() >= this.by - CLAIM_AGAIN_BEFORE_MS) this.claimAgain();
    return this.claimedAgain?.catch((error: unknown) => {
      throw new SourceError(
        `the apply outlived the finish it had promised the shop's record, and could not claim the shop again (${(error as Error).message}); nothing more was sent`,
      );
    });
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
   * The apply failed: the record must not say its writes are over (an open attempt may have been applied, and a
   * resume sends it again). A promise is taken back: the entry is marked running again, whatever else the record
   * holds. Says so when that could not be done.
   */
  async failed(): Promise<string | undefined> {
    this.cancelTimer();
    if (!this.promised) return undefined;
    if (this.claimedAgain && (await this.claimedAgain.then(() => true).catch(() => false))) return undefined;
    const held = await this.promised.catch(() => this.claimed);
    try {
      await reopenShop(this.client, this.plan, this.install, held, () => this.clock.now());
      return undefined;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return `the shop's record (metafield $app:invrecon.applies) may still say this apply's writes were over by ${new Date(this.by).toISOString()}, and it could not be marked running again (${reason}): other installs may take it as finished until the same apply is run again`;
    }
  }
}
