// Sending level writes with compare-and-swap under an idempotency key, re-reading levels, and the step
// that joins them with `decide`. This is the API the per-event engine (`invrecon watch`) shares with apply:
//
//   const { decision } = await writeStep(client, { mode: 'set', rows, level, key, uncertain, maxMisses, maxSize });
//
// `rows[i].change` indexes the caller's own levels (`level(change)` gives ids, from, to); the caller keeps
// rows and keys durable (open the attempt before the call, close it with the decision after), sends
// `decision.next` under a new key when `decision.key` is 'next', the same call again when 'same'.
import { ShopifyGraphQLError, ShopifyUnreachableError, type ShopifyClient } from '../../sources/shopify/client.js';
import {
  AVAILABLE_AT_LOCATION,
  INVENTORY_ADJUST_QUANTITIES,
  INVENTORY_SET_QUANTITIES,
  type AvailableAtLocationData,
  type InventoryAdjustQuantitiesData,
  type InventorySetQuantitiesData,
} from '../../sources/shopify/documents.js';
import type { BatchRow } from '../../store/applies.js';
import { BATCH_SIZE } from './batches.js';
import { decide, isReplay, rowsToReread, type Answer, type Decision, type LevelFacts, type WriteMode } from './decide.js';
import { runPool } from './lanes.js';

/** One level written with compare-and-swap: `value` is the new quantity (set) or the delta (adjust). */
export interface LevelWrite {
  inventoryItemId: string;
  locationId: string;
  changeFromQuantity: number;
  value: number;
}

export interface SentCall {
  answer: Answer;
  /** Points the call cost (requested when the actual is unknown), latency of its answered attempt. */
  cost: number | null;
  latencyMs: number;
  /** Waited for the cost bucket and backoff before it went. */
  waitedMs: number;
}

export interface SendOptions {
  referenceDocumentUri?: string;
  /** An earlier send of this very call may have been applied (resumed after a kill, or its answer was lost). */
  uncertain?: boolean;
  /** Passed to the client's call events (to tell calls in flight apart in the audit log). */
  tag?: unknown;
  /** Shopify's time before which no write of this run exists: an answer with an older group is a replay (isReplay). */
  notBefore?: string;
  /** Awaited before each attempt of the call goes (the client's beforeAttempt). */
  beforeAttempt?: () => Promise<unknown> | undefined;
  /** Called as each attempt goes. */
  onSent?: () => void;
}

type AdjustmentPayloadData = Partial<InventorySetQuantitiesData & InventoryAdjustQuantitiesData>;

/** The two mutations differ in their document, the name of the rows' list and value, and the payload's name only. */
const MUTATIONS = {
  set: { document: INVENTORY_SET_QUANTITIES, rows: 'quantities', value: 'quantity', payload: 'inventorySetQuantities' },
  adjust: { document: INVENTORY_ADJUST_QUANTITIES, rows: 'changes', value: 'delta', payload: 'inventoryAdjustQuantities' },
} as const satisfies Record<WriteMode, { document: string; rows: string; value: string; payload: keyof AdjustmentPayloadData }>;

/**
 * One inventorySetQuantities / inventoryAdjustQuantities call. A call whose every attempt failed after
 * one may have reached Shopify answers `{ kind: 'lost' }`; one that never left throws.
 */
export async function sendWrites(
  client: ShopifyClient,
  mode: WriteMode,
  writes: readonly LevelWrite[],
  key: string,
  options: SendOptions = {},
): Promise<SentCall> {
  const mutation = MUTATIONS[mode];
  const rows = writes.map((w) => ({
    inventoryItemId: w.inventoryItemId,
    locationId: w.locationId,
    [mutation.value]: w.value,
    changeFromQuantity: w.changeFromQuantity,
  }));
  try {
    const result = await client.request<AdjustmentPayloadData>(
      mutation.document,
      { idempotencyKey: key, referenceDocumentUri: options.referenceDocumentUri ?? null, [mutation.rows]: rows },
      { tag: options.tag, beforeAttempt: options.beforeAttempt, onSent: options.onSent },
    );
    const payload = result.data[mutation.payload];
    // Another run's call replayed: what else it left undone may have been applied by that run since.
    const replayed = isReplay(payload?.inventoryAdjustmentGroup?.createdAt, options.notBefore);
    return {
      answer: {
        kind: 'answered',
        userErrors: payload?.userErrors ?? [],
        changes: payload?.inventoryAdjustmentGroup?.changes ?? [],
        uncertain: Boolean(options.uncertain) || result.uncertain || replayed,
        ...(replayed ? { replayed } : {}),
      },
      cost: result.cost.actual || result.cost.requested || null,
      latencyMs: result.latencyMs,
      waitedMs: result.waitedMs,
    };
  } catch (error) {
    if (error instanceof ShopifyUnreachableError && (error.uncertain || options.uncertain))
      return { answer: { kind: 'lost' }, cost: null, latencyMs: 0, waitedMs: 0 };
    const tooCostly = tooCostlyOf(error);
    if (tooCostly) return { answer: { kind: 'too-costly', ...tooCostly }, cost: null, latencyMs: 0, waitedMs: 0 };
    throw error;
  }
}

/** The cost and limit of a call refused as MAX_COST_EXCEEDED, or undefined for any other error. */
function tooCostlyOf(error: unknown): { cost?: number; maxCost?: number } | undefined {
  if (!(error instanceof ShopifyGraphQLError) || !error.codes.includes('MAX_COST_EXCEEDED')) return undefined;
  const { cost, maxCost } = error.extensions.find((e) => e.code === 'MAX_COST_EXCEEDED') ?? {};
  return { cost: typeof cost === 'number' ? cost : undefined, maxCost: typeof maxCost === 'number' ? maxCost : undefined };
}

export interface ReadOptions {
  /** Calls in flight at once (default 8). */
  concurrency?: () => number;
  tag?: unknown;
}

/**
 * `available` now of each level (null: not stocked there), read per location in calls of at most 250
 * items, several at once. A call refused as too costly (MAX_COST_EXCEEDED) is split by the ratio the
 * error gives, and later calls keep the smaller size.
 */
export async function readAvailable(
  client: ShopifyClient,
  levels: readonly Pick<LevelWrite, 'inventoryItemId' | 'locationId'>[],
  options: ReadOptions = {},
): Promise<(number | null)[]> {
  const current: (number | null)[] = new Array<number | null>(levels.length).fill(null);
  const byLocation = new Map<string, number[]>();
  levels.forEach((level, i) => {
    const group = byLocation.get(level.locationId);
    if (group) group.push(i);
    else byLocation.set(level.locationId, [i]);
  });
  let size = BATCH_SIZE;
  const chunks: { locationId: string; indexes: number[] }[] = [];
  for (const [locationId, all] of byLocation) for (let at = 0; at < all.length; at += size) chunks.push({ locationId, indexes: all.slice(at, at + size) });
  const read = async (chunk: { locationId: string; indexes: number[] }): Promise<void> => {
    for (let at = 0; at < chunk.indexes.length;) {
      const part = chunk.indexes.slice(at, at + size);
      try {
        const { data } = await client.request<AvailableAtLocationData>(
          AVAILABLE_AT_LOCATION,
          { ids: part.map((i) => levels[i]!.inventoryItemId), locationId: chunk.locationId },
          { tag: options.tag },
        );
        const byItem = new Map(
          data.nodes.flatMap((n) => (n ? [[n.id, n.inventoryLevel?.quantities.find((q) => q.name === 'available')?.quantity ?? null] as const] : [])),
        );
        for (const i of part) current[i] = byItem.get(levels[i]!.inventoryItemId) ?? null;
        at += part.length;
      } catch (error) {
        const tooCostly = tooCostlyOf(error);
        if (!tooCostly || part.length === 1) throw error;
        const ratio = tooCostly.cost && tooCostly.maxCost ? tooCostly.maxCost / tooCostly.cost : 0.5;
        size = Math.max(1, Math.min(part.length - 1, Math.floor(part.length * Math.min(ratio, 0.9))));
      }
    }
  };
  await runPool(chunks, options.concurrency ?? (() => 8), read);
  return current;
}

/** One attempt: its rows and how to decide on them, and the options its call is sent with. */
export interface StepInput extends SendOptions {
  mode: WriteMode;
  rows: readonly BatchRow[];
  level(change: number): LevelFacts;
  movedBy?(change: number): string | undefined;
  key: string;
  maxMisses: number;
  maxSize?: number;
}

/** Sends one call, re-reads the levels that came back stale, and decides: the whole step of one attempt. */
export async function writeStep(client: ShopifyClient, input: StepInput): Promise<{ decision: Decision; call: SentCall; reread: number }> {
  const writes = input.rows.map((row) => {
    const level = input.level(row.change);
    return { inventoryItemId: level.inventoryItemId, locationId: level.locationId, changeFromQuantity: row.changeFromQuantity, value: row.value };
  });
  const call = await sendWrites(client, input.mode, writes, input.key, input);
  const stale = rowsToReread({ rows: input.rows, level: input.level, answer: call.answer });
  const current = new Map<number, number | null>();
  if (stale.length > 0) {
    const now = await readAvailable(
      client,
      stale.map((row) => input.level(row.change)),
      { concurrency: () => 1, tag: input.tag },
    );
    stale.forEach((row, i) => current.set(row.change, now[i]!));
  }
  const decision = decide({
    mode: input.mode,
    rows: input.rows,
    level: input.level,
    movedBy: input.movedBy,
    answer: call.answer,
    current,
    maxMisses: input.maxMisses,
    maxSize: input.maxSize ?? BATCH_SIZE,
  });
  return { decision, call, reread: stale.length };
}
