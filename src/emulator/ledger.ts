// The idempotency ledger both inventory mutations share: remembered keys, keys in flight, adjustment group ids, and the payloads it replays.
import { createHash } from 'node:crypto';
import type { QuantityName } from './seed.js';
import type { HistoryEntry, RecordedChanges, ShopStore } from './store.js';

export interface UserError {
  code: string;
  field: string[] | null;
  message: string;
}

/**
 * The rows one mutation changed, column by column: kept for replays as long as its key, a million changes
 * cost a few typed arrays instead of millions of objects. Row r moved `names` of item items[r] at location
 * locations[r] by deltas[r]; after[r × 8 …] holds the level's eight quantities right after it (QUANTITY_NAMES order).
 */
export interface AdjustmentGroup {
  id: string;
  createdAt: string;
  reason: string;
  referenceDocumentUri: string | null;
  /** The quantities every row moved, in the order changes(...) lists them. */
  names: readonly QuantityName[];
  items: Int32Array;
  locations: Int32Array;
  deltas: Float64Array;
  after: Int32Array;
  /** Each row's ledger document, or null when no row has one. */
  ledgerDocumentUris: (string | null)[] | null;
}

export interface InventoryPayload {
  inventoryAdjustmentGroup: AdjustmentGroup | null;
  userErrors: UserError[];
}

export const CONCURRENT_MESSAGE = 'This request is currently inprogress, please try again.';

/** Default idempotency retention: 24 hours (a second-hand figure, see docs/emulator.md "Evidence and guesses"). */
export const DEFAULT_IDEMPOTENCY_TTL_S = 24 * 60 * 60;

export interface LedgerOptions {
  /** Seconds a key is remembered after its request finished; 0 forgets it at once. */
  idempotencyTtlS?: number;
  /** Milliseconds since the epoch (tests pass a fake clock). */
  clock?: () => number;
  onHistory?: (changes: HistoryEntry[] | RecordedChanges) => void;
}

/** Idempotency records and group numbering, shared by both mutations. */
export class MutationLedger {
  /** In insertion order, which is expiry order (one retention for all): expired keys are swept from the front. */
  private readonly byKey = new Map<string, { fingerprint: string; payload: InventoryPayload; storedAt: number }>();
  private readonly inFlight = new Set<string>();
  private groupNumber = 0;
  replays = 0;
  forgotten = 0;
  idempotencyTtlMs: number;
  readonly clock: () => number;
  private readonly onHistory: (changes: HistoryEntry[] | RecordedChanges) => void;

  constructor(
    readonly store: ShopStore,
    options: LedgerOptions = {},
  ) {
    this.idempotencyTtlMs = (options.idempotencyTtlS ?? DEFAULT_IDEMPOTENCY_TTL_S) * 1000;
    this.clock = options.clock ?? Date.now;
    this.onHistory = options.onHistory ?? ((changes) => store.recordHistory(changes));
  }

  nextGroupId(): string {
    return `gid://shopify/InventoryAdjustmentGroup/${++this.groupNumber}`;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [key, record] of this.byKey) {
      // The current retention applies to keys already kept: shortening it at run time forgets them.
      if (record.storedAt + this.idempotencyTtlMs > now) break;
      this.byKey.delete(key);
      this.forgotten++;
    }
  }

  /** A replayed key answers the first payload; a key reused with other parameters is a user error. */
  remembered(key: string, fingerprint: string, errorCode: string): InventoryPayload | undefined {
    this.sweep();
    const previous = this.byKey.get(key);
    if (!previous) return undefined;
    if (previous.fingerprint === fingerprint) {
      this.replays++;
      return previous.payload;
    }
    return {
      inventoryAdjustmentGroup: null,
      userErrors: [{ code: errorCode, field: null, message: 'The same idempotency key cannot be used with different operation parameters.' }],
    };
  }

  remember(key: string, fingerprint: string, payload: InventoryPayload): InventoryPayload {
    this.byKey.delete(key);
    if (this.idempotencyTtlMs > 0) this.byKey.set(key, { fingerprint, payload, storedAt: this.clock() });
    else this.forgotten++;
    return payload;
  }

  /** Whether a request holding this key is still running (IDEMPOTENCY_CONCURRENT_REQUEST). */
  isRunning(key: string): boolean {
    return this.inFlight.has(key);
  }

  /**
   * Runs one keyed mutation: the key is held while `wait` (the request's processing time) elapses and the write
   * runs, so a retry that arrives meanwhile is told the request is in progress instead of running twice.
   */
  async exclusive(key: string, wait: () => Promise<void>, run: () => InventoryPayload): Promise<InventoryPayload> {
    if (this.inFlight.has(key))
      return { inventoryAdjustmentGroup: null, userErrors: [{ code: 'IDEMPOTENCY_CONCURRENT_REQUEST', field: null, message: CONCURRENT_MESSAGE }] };
    this.inFlight.add(key);
    try {
      await wait();
      return run();
    } finally {
      this.inFlight.delete(key);
    }
  }

  record(changes: HistoryEntry[] | RecordedChanges): void {
    this.onHistory(changes);
  }
}

/**
 * The idempotency fingerprint of a call's parameters, as coerced: a digest of their JSON (kept per key for a day, so
 * small). Coercion gives every input object its type's fields in the schema's order, whichever order the request
 * had, so equal parameters give equal JSON.
 */
export function fingerprintOf(parameters: unknown): string {
  return createHash('sha256').update(JSON.stringify(parameters)).digest('base64');
}
