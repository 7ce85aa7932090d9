// One shop, many installs (a laptop, a cron host, CI): each keeps its own snapshot database, so none
// knows from its own history what another applied. They coordinate through the shop itself: a JSON
// metafield in the app's namespace lists each applied plan (digest, install, baseline time, start,
// finish), written with compare-and-swap (metafieldsSet with compareDigest). An apply whose baseline
// was read before another install's apply finished (or while one runs) is refused: its `from` values
// may be that install's writes, and carrying them forward as sales would move a level twice.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { SourceError, StaleError } from '../../errors.js';
import type { ShopifyClient } from '../../sources/shopify/client.js';
import { SET_SHOP_APPLIES_RECORD, type SetShopAppliesRecordData } from '../../sources/shopify/documents.js';
import { RECORD_KEY, RECORD_NAMESPACE, readShopRecord } from '../../sources/shopify/shop-record.js';
import type { Db } from '../../store/db.js';
import { keepShopRecord, shopRecordCopy } from '../../store/shop-records.js';
import type { Plan } from '../model.js';

export { RECORD_KEY, RECORD_NAMESPACE } from '../../sources/shopify/shop-record.js';
/** Entries kept: the newest, enough to cover any baseline still worth applying. */
const KEEP = 50;
/** A run that never recorded its finish is taken as done this long after it started (it died). */
export const ABANDONED_AFTER_MS = 6 * 3600_000;
/** Compare-and-swap misses (another install wrote the record meanwhile) before giving up. */
const MAX_RECORD_MISSES = 5;

export interface ShopApply {
  planDigest: string;
  /** Which install: a hash of its host and snapshot database path. */
  install: string;
  /** When the plan's Shopify snapshot was read. */
  baselineAt: string;
  startedAt: string;
  /**
   * When its writes were over, or will be: an apply records it once its last batch has started, a few seconds
   * ahead (ShopFinish). null while it runs (or if it died).
   */
  finishedAt: string | null;
}

export interface AppliesRecord {
  version: 1;
  applies: ShopApply[];
}

/** This install's id: stable for one database on one host, and says nothing about either. */
export function installId(snapshotPath: string): string {
  return createHash('sha256')
    .update(`${hostname()}\u0000${resolve(snapshotPath)}`)
    .digest('hex')
    .slice(0, 16);
}

export function parseRecord(value: string | undefined): AppliesRecord {
  if (value === undefined) return { version: 1, applies: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new SourceError(`the shop metafield ${RECORD_NAMESPACE}.${RECORD_KEY} (the installs' record of applied plans) is not JSON; fix or delete it`);
  }
  const applies = (parsed as { applies?: unknown }).applies;
  if (!Array.isArray(applies) || !applies.every((a) => typeof (a as ShopApply).planDigest === 'string' && typeof (a as ShopApply).startedAt === 'string')) {
    throw new SourceError(`the shop metafield ${RECORD_NAMESPACE}.${RECORD_KEY} is not a record of applied plans; fix or delete it`);
  }
  return { version: 1, applies: applies as ShopApply[] };
}

/** When another apply's writes were over, as far as a baseline can tell. */
function writesOverAt(entry: ShopApply): number {
  if (entry.finishedAt !== null) return Date.parse(entry.finishedAt);
  return Date.parse(entry.startedAt) + ABANDONED_AFTER_MS;
}

/**
 * Another install's applies that this plan's baseline may not show: running, or finished after the
 * baseline was read. This install's own plans are left to its local history (audit log and lock).
 */
export function conflictingApplies(record: AppliesRecord, plan: Pick<Plan, 'digest'> & { baselineAt: string }, install: string): ShopApply[] {
  const baseline = Date.parse(plan.baselineAt);
  return record.applies.filter((a) => a.install !== install && a.planDigest !== plan.digest && writesOverAt(a) > baseline);
}

/** The record with this plan's entry added or replaced, newest kept. */
export function withEntry(record: AppliesRecord, entry: ShopApply): AppliesRecord {
  const others = record.applies.filter((a) => !(a.planDigest === entry.planDigest && a.install === entry.install));
  return { version: 1, applies: [...others, entry].slice(-KEEP) };
}

/** The record as read or written last, with its digest for the next compare-and-swap. */
export interface HeldRecord {
  shopId: string;
  record: AppliesRecord;
  digest: string | null;
  /** Shopify's time of this install's last write of the record (the claim): no write of this apply can be older. */
  writtenAt?: string;
}

/** The record's calls go ahead of the writes waiting for the bucket: writes may be waiting on them (ShopFinish). */
const RECORD_CALL = { aheadOfQueue: true } as const;

async function readRecord(client: ShopifyClient): Promise<HeldRecord> {
  const now = await readShopRecord(client, RECORD_CALL);
  return { shopId: now.shopId, record: parseRecord(now.value), digest: now.digest };
}

/**
 * The record as this install last read it (a pull keeps a copy) or wrote it, from the snapshot database:
 * the claim writes from it with its digest, in one call instead of a read and a write. Compare-and-swap
 * makes that safe: if anybody wrote the record since, Shopify refuses the write and the record is read again.
 */
export function heldRecord(db: Db, shop: string): HeldRecord | undefined {
  const copy = shopRecordCopy(db, shop);
  if (!copy) return undefined;
  try {
    return { shopId: copy.shopId, record: parseRecord(copy.value), digest: copy.digest };
  } catch {
    // Not a record of applies: the claim reads the shop's and judges that one.
    return undefined;
  }
}

export function keepRecord(db: Db, shop: string, held: HeldRecord): void {
  keepShopRecord(db, shop, { shopId: held.shopId, value: JSON.stringify(held.record), digest: held.digest }, 'written');
}

/**
 * Writes the record if nobody wrote it since `held.digest`; its new digest, or undefined when somebody did.
 * `copy`: the digest comes from a copy, not a read just now: any refusal only means "read it again" (what
 * Shopify answers to a null digest when the record exists is not documented; guessed STALE_OBJECT).
 */
async function writeRecord(client: ShopifyClient, held: HeldRecord, copy = false): Promise<HeldRecord | undefined> {
  const { data } = await client.request<SetShopAppliesRecordData>(
    SET_SHOP_APPLIES_RECORD,
    {
      metafields: [
        { ownerId: held.shopId, namespace: RECORD_NAMESPACE, key: RECORD_KEY, type: 'json', value: JSON.stringify(held.record), compareDigest: held.digest },
      ],
    },
    RECORD_CALL,
  );
  const errors = data.metafieldsSet?.userErrors ?? [];
  if (errors.some((e) => e.code === 'STALE_OBJECT') || (copy && errors.length > 0)) return undefined;
  if (errors.length > 0)
    throw new SourceError(`Shopify refused the installs' record of applied plans: ${errors.map((e) => `${e.code ?? 'error'}: ${e.message}`).join('; ')}`);
  const written = data.metafieldsSet?.metafields?.[0];
  return { ...held, digest: written?.compareDigest ?? null, writtenAt: written?.updatedAt };
}

/**
 * Changes and writes the record with compare-and-swap: from `known` (this install's copy) first, and read
 * again whenever another install wrote it meanwhile. A refusal (`change` throws) is only taken from a
 * record just read: a copy may be out of date.
 */
async function updateRecord(client: ShopifyClient, change: (record: AppliesRecord) => AppliesRecord, known?: HeldRecord): Promise<HeldRecord> {
  if (known) {
    let record: AppliesRecord | undefined;
    try {
      record = change(known.record);
    } catch {
      // Judged again on the record as it is now, below.
    }
    const written = record && (await writeRecord(client, { ...known, record }, true));
    if (written) return written;
  }
  for (let miss = 0; miss < MAX_RECORD_MISSES; miss++) {
    const held = await readRecord(client);
    const written = await writeRecord(client, { ...held, record: change(held.record) });
    if (written) return written;
  }
  throw new SourceError(
    `the installs' record of applied plans kept changing (${MAX_RECORD_MISSES} compare-and-swap misses): another install is busy; try again`,
  );
}

function describe(entry: ShopApply, now = Date.now()): string {
  // A finish ahead of now is a promise (ShopFinish): a snapshot read before it is refused; after it, it may go.
  const finish =
    entry.finishedAt === null ? 'not finished' : Date.parse(entry.finishedAt) > now ? `writes over by ${entry.finishedAt}` : `finished ${entry.finishedAt}`;
  return `plan ${entry.planDigest.slice(0, 12)} of install ${entry.install}: started ${entry.startedAt}, ${finish}`;
}

/** The record with this install's entry for this plan, its start kept from an earlier entry (a resume). */
function withOwnEntry(
  record: AppliesRecord,
  plan: Pick<Plan, 'digest' | 'baseline'>,
  install: string,
  now: () => Date,
  finishedAt: string | null,
): AppliesRecord {
  const mine = record.applies.find((a) => a.planDigest === plan.digest && a.install === install);
  const startedAt = mine?.startedAt ?? now().toISOString();
  return withEntry(record, { planDigest: plan.digest, install, baselineAt: plan.baseline.shopify.takenAt, startedAt, finishedAt });
}

/**
 * Claims the shop for this apply: refused (StaleError) when another install applied after this plan's
 * baseline was read, or is applying now; else this plan is recorded as running, atomically.
 */
export async function claimShop(
  client: ShopifyClient,
  plan: Pick<Plan, 'digest' | 'baseline'>,
  install: string,
  /** The record as this install last read or wrote it (heldRecord), if it has a copy. */
  known?: HeldRecord,
  now: () => Date = () => new Date(),
): Promise<HeldRecord> {
  const baselineAt = plan.baseline.shopify.takenAt;
  return updateRecord(
    client,
    (record) => {
      const conflicts = conflictingApplies(record, { digest: plan.digest, baselineAt }, install);
      if (conflicts.length > 0) {
        throw new StaleError(
          `the plan is stale: another install of invrecon applied to this shop after this plan's Shopify snapshot was read (${baselineAt}), or is applying now; its writes are not sales to carry forward: run "invrecon pull shopify" and "invrecon plan" again`,
          conflicts.map((entry) => describe(entry)),
        );
      }
      return withOwnEntry(record, plan, install, now, null);
    },
    known,
  );
}

/**
 * Records this apply as running again, whatever else the record holds: a promised finish taken back by an apply
 * that failed (its writes may still be applied by a resume). Not a claim: nothing here may refuse it.
 */
export async function reopenShop(
  client: ShopifyClient,
  plan: Pick<Plan, 'digest' | 'baseline'>,
  install: string,
  held?: HeldRecord,
  now: () => Date = () => new Date(),
): Promise<HeldRecord> {
  return updateRecord(client, (record) => withOwnEntry(record, plan, install, now, null), held);
}

/**
 * Records this apply's finish, so that other installs' plans made from later snapshots may go. `claimed`:
 * the record as the claim wrote it (one call when nobody wrote it since). `writesOverBy`: a finish promised
 * ahead (ShopFinish), the time by which every write of this apply is over; by default, now.
 */
export async function releaseShop(
  client: ShopifyClient,
  plan: Pick<Plan, 'digest' | 'baseline'>,
  install: string,
  claimed?: HeldRecord,
  now: () => Date = () => new Date(),
  writesOverBy?: Date,
): Promise<HeldRecord> {
  return updateRecord(client, (record) => withOwnEntry(record, plan, install, now, (writesOverBy ?? now()).toISOString()), claimed);
}
