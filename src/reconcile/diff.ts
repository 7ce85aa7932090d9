import type { LoadedConfig } from '../config/load.js';
import type { Authority } from '../config/schema.js';
import { InputError, UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { getSnapshot, latestSnapshot, type SnapshotInfo, type Side } from '../store/snapshots.js';
import { bundleAvailable, bundleOrder, readBundles, type BundleMap } from './bundles.js';
import { resolveLocations, type ResolvedLocation } from './locations.js';
import { evaluate, toSql } from './expr.js';
import {
  AUTHORITY,
  AUTHORITY_SOURCE,
  AVAILABLE,
  CLAMPED,
  decideLevel,
  decision,
  MERGED,
  ORDERS,
  PRESENCE,
  resolveAuthority,
  SAFETY,
  SAFETY_SOURCE,
  WORTH_A_LINE,
  type SafetySource,
} from './rules.js';
import { plural, signed } from '../text.js';

export type RowStatus = 'ok' | 'change' | 'erp-correction' | 'conflict' | 'not-in-shopify' | 'not-stocked' | 'not-in-erp' | 'ambiguous-sku';

/** Statuses that mean the two sides disagree about a level both have. */
export const DRIFT_STATUSES: readonly RowStatus[] = ['change', 'erp-correction', 'conflict'];

/**
 * Drift has one definition everywhere (diff, plan, status, report, demo, sync), in two kinds named apart:
 * Shopify drift, the levels invrecon would write (status `change`), and ERP drift, the corrections the
 * ERP must take where Shopify is the authority (status `erp-correction`); both beyond the threshold.
 * Hybrid conflicts are counted on their own: no command settles them, a person does.
 */
export type DriftKind = 'shopify' | 'erp';

export function driftKind(status: RowStatus): DriftKind | undefined {
  return status === 'change' ? 'shopify' : status === 'erp-correction' ? 'erp' : undefined;
}

/** What `--detailed-exitcode` fails on: Shopify drift (the default), ERP drift, or both. Conflicts fail every gate. */
export type Gate = 'shopify' | 'erp' | 'all';
export const GATES: readonly Gate[] = ['shopify', 'erp', 'all'];
export const DEFAULT_GATE: Gate = 'shopify';

export function gateFails(counts: { shopify: number; erp: number; conflicts: number }, gate: Gate): boolean {
  return counts.conflicts > 0 || (gate !== 'erp' && counts.shopify > 0) || (gate !== 'shopify' && counts.erp > 0);
}

export interface DiffRow {
  sku: string;
  locationId: string;
  locationName: string;
  inventoryItemId: string | null;
  /** What Shopify's available should be (by the ERP's numbers, or the hybrid merge); null when unknown. */
  target: number | null;
  /** Shopify's available in the snapshot; null when the item is not stocked there or not in Shopify. */
  observed: number | null;
  delta: number | null;
  status: RowStatus;
  authority: Authority;
  reason: string;
  kind: 'level' | 'bundle' | 'shopify-only';
  erp: { onHand: number; reserved: number; safetyStock: number; safetySource: SafetySource; shopifyCommitted: number; available: number; clamped: boolean } | null;
  hybrid: { baseErp: number; baseShopify: number; erpDelta: number; shopifyDelta: number } | null;
  category: string | null;
}

export interface DriftCount {
  levels: number;
  /** Sum of |delta| over those levels. */
  units: number;
}

export interface LocationSummary {
  locationId: string;
  locationName: string;
  levelsCompared: number;
  /** Shopify drift: levels invrecon would write, and their total |delta|. */
  levelsDrifting: number;
  totalAbsDrift: number;
  /** The Shopify drift split: Shopify above the target (oversell risk) and below it (lost sales). */
  oversell: DriftCount;
  lostSales: DriftCount;
  /** ERP drift: corrections the ERP must take (Shopify is the authority there). */
  erpDrift: DriftCount;
  /** Hybrid levels both sides changed beyond a merge: left for a person. */
  conflicts: number;
  /** Compared levels with stock in Shopify (available > 0), for the guards. */
  stocked: number;
}

export interface DiffSummary extends Omit<LocationSummary, 'locationId' | 'locationName'> {
  threshold: number;
  byLocation: LocationSummary[];
  reported: Record<Exclude<RowStatus, 'ok' | 'change'>, number> & { clamped: number };
}

export interface DiffResult {
  erpSnapshot: SnapshotInfo;
  shopifySnapshot: SnapshotInfo;
  summary: DiffSummary;
  rows: DiffRow[];
  /** Problems of the mapping and the catalogue as a whole (unmapped warehouses, locations, …). */
  issues: string[];
}

export interface DiffOptions {
  erpSnapshotId?: number;
  shopifySnapshotId?: number;
  /** Include rows with nothing to do (delta 0, or within the threshold). */
  all?: boolean;
  /** |delta| at or below this is not drift. */
  threshold?: number;
  /** Glob on SKU (`TEE-*`). */
  sku?: string;
  /** Shopify location name or id. */
  location?: string;
  /** Also return the `ok` rows of hybrid levels (the plan records them as the new base). */
  hybridOk?: boolean;
}

/**
 * Which rows t_diff keeps. Most levels of a large shop are `ok`: they are only counted (by a function
 * the join calls), not stored, so the join writes the ~1% that say something.
 */
interface KeepRules {
  all: boolean;
  hybridOk: boolean;
  /** SQL over the row's sku and location_id: whether it is inside --sku / --location. */
  inFilter: string;
  filterParams: Record<string, unknown>;
}

const DROPPED_OK_FUNCTION = 'invrecon_count_dropped_ok';

function pickSnapshot(db: Db, side: Side, id: number | undefined): SnapshotInfo {
  if (id !== undefined) {
    const snapshot = getSnapshot(db, id);
    if (!snapshot) throw new UsageError(`--${side}-snapshot ${id}: no such snapshot (see "invrecon snapshots")`);
    if (snapshot.side !== side) throw new UsageError(`--${side}-snapshot ${id}: snapshot ${id} is a ${snapshot.side} snapshot`);
    return snapshot;
  }
  const latest = latestSnapshot(db, side);
  if (!latest) throw new InputError(`no ${side === 'erp' ? 'ERP' : 'Shopify'} snapshot yet: run "invrecon pull ${side}" first`);
  return latest;
}

// Per-level expressions shared by the ERP-driven and the Shopify-driven halves of the outer join: the rules
// of rules.ts over this join's columns. Inputs by alias: k = ERP SKU, l = location, sl = Shopify level,
// b = hybrid base, bs = the Shopify level the base was taken from, and the ERP sums :on_hand, :reserved,
// :safety (NULL: the export has no safety stock there).
function levelSelect(sums: { onHand: string; reserved: string; safety: string }, subtractCommitted: boolean, withBase: boolean): string {
  const safetyInputs = {
    erp_safety: sums.safety,
    sku_safety: 'k.sku_safety',
    category_safety: 'k.category_safety',
    location_safety: 'l.safety',
    default_safety: '@default_safety',
  };
  const committed = subtractCommitted ? 'COALESCE(sl.committed, 0)' : '0';
  const available = { on_hand: sums.onHand, reserved: sums.reserved, safety: toSql(SAFETY, safetyInputs), committed };
  const authority = { category_authority: 'k.authority', location_authority: 'l.authority', default_authority: '@default_authority' };
  return `
    k.item_id AS inventory_item_id, ${sums.onHand} AS on_hand, ${sums.reserved} AS reserved, ${available.safety} AS safety,
    ${toSql(SAFETY_SOURCE, safetyInputs)} AS safety_source,
    ${committed} AS committed, ${toSql(AVAILABLE, available)} AS erp_available, ${toSql(CLAMPED, available)} AS clamped,
    sl.available AS observed, ${toSql(AUTHORITY, authority)} AS authority, ${toSql(AUTHORITY_SOURCE, authority)} AS authority_source,
    ${withBase ? 'b.erp_available' : 'NULL'} AS base_erp, ${withBase ? 'b.shopify_available' : 'NULL'} AS base_shopify, k.category AS category,
    ${withBase ? toSql(ORDERS, { committed_now: 'sl.committed', committed_base: 'bs.committed' }) : 'NULL'} AS orders,
    ${toSql(PRESENCE, { n_items: 'k.n_items', observed: 'sl.available' })} AS presence`;
}

const DIFF_COLUMNS = `(sku, location_id, kind, inventory_item_id, on_hand, reserved, safety, safety_source, committed, erp_available, clamped,
  observed, authority, authority_source, base_erp, base_shopify, orders, category, status, target)`;

// Authority decides the target and status of each level both sides have, in the same pass as the join
// (SQLite flattens the subquery). Without a hybrid base the merge is left out entirely (the target is then
// the ERP's available): SQLite substitutes the subquery's expressions where they are used, and this keeps
// the pass lean.
function insertLevels(select: string, withBase: boolean, keep: KeepRules): string {
  const { target, status } = decision(withBase);
  return `INSERT INTO t_diff ${DIFF_COLUMNS}
    SELECT * FROM (
      SELECT sku, location_id, 'level', inventory_item_id, on_hand, reserved, safety, safety_source, committed, erp_available, clamped,
        observed, authority, authority_source, base_erp, base_shopify, orders, category, ${toSql(status)} AS status, ${toSql(target)}
      FROM (${select})
      WHERE ${toSql(WORTH_A_LINE)})
    WHERE ${keepCondition(keep)}`;
}

/** Keeps a row that says something (or is needed later); counts and drops a plain `ok` one. */
function keepCondition(keep: KeepRules): string {
  if (keep.all) return '1';
  // CASE, not OR: SQLite may evaluate OR terms in any order, and the count must see dropped rows only.
  return `CASE WHEN status <> 'ok' OR sku IN (SELECT sku FROM t_component)${keep.hybridOk ? " OR authority = 'hybrid'" : ''} THEN 1
      ELSE ${DROPPED_OK_FUNCTION}(location_id, ${keep.inFilter}, observed > 0) END`;
}

/** Creates the per-run temporary tables that carry the config's rules into SQL. */
function stageRules(db: Db, config: LoadedConfig, locations: ResolvedLocation[], erpId: number, shopifyId: number, bundles: BundleMap): void {
  const collate = skuCollation(config);
  if (collate === 'NOCASE') refuseCaseTwins(db, erpId);
  db.exec(`
    DROP TABLE IF EXISTS temp.t_loc; DROP TABLE IF EXISTS temp.t_wh; DROP TABLE IF EXISTS temp.t_erp_sku;
    DROP TABLE IF EXISTS temp.t_erp; DROP TABLE IF EXISTS temp.t_shop_sku; DROP TABLE IF EXISTS temp.t_bundle; DROP TABLE IF EXISTS temp.t_component; DROP TABLE IF EXISTS temp.t_diff;
    CREATE TEMP TABLE t_loc (location_id TEXT PRIMARY KEY, name TEXT NOT NULL, authority TEXT, safety INTEGER) WITHOUT ROWID;
    -- A warehouse row carries its location's rules too, so the per-level join looks up one table, not two.
    CREATE TEMP TABLE t_wh (warehouse TEXT PRIMARY KEY, location_id TEXT NOT NULL, pooled INTEGER NOT NULL,
      authority TEXT, safety INTEGER, ord INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX temp.t_wh_location ON t_wh (location_id, warehouse);
    CREATE TEMP TABLE t_bundle (sku TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE t_component (sku TEXT PRIMARY KEY) WITHOUT ROWID;
    -- One row per ERP SKU with its rules resolved once, and its Shopify item (n_items NULL: not in Shopify).
    CREATE TEMP TABLE t_erp_sku (sku TEXT COLLATE ${collate} PRIMARY KEY, category TEXT, sku_safety INTEGER, category_safety INTEGER, authority TEXT,
      item_id TEXT, n_items INTEGER) WITHOUT ROWID;
    CREATE TEMP TABLE t_erp (sku TEXT NOT NULL, location_id TEXT NOT NULL, on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, safety INTEGER,
      PRIMARY KEY (sku, location_id)) WITHOUT ROWID;
    CREATE TEMP TABLE t_shop_sku (sku TEXT COLLATE ${collate} PRIMARY KEY, item_id TEXT NOT NULL, n_items INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE t_diff (sku TEXT NOT NULL, location_id TEXT NOT NULL, kind TEXT NOT NULL, inventory_item_id TEXT,
      on_hand INTEGER, reserved INTEGER, safety INTEGER, safety_source TEXT, committed INTEGER, erp_available INTEGER, clamped INTEGER,
      observed INTEGER, authority TEXT, authority_source TEXT, base_erp INTEGER, base_shopify INTEGER, orders INTEGER, category TEXT, status TEXT NOT NULL,
      target INTEGER, limited_by TEXT);
  `);
  const insertLoc = db.prepare('INSERT INTO t_loc VALUES (?, ?, ?, ?)');
  const insertWh = db.prepare('INSERT INTO t_wh VALUES (?, ?, ?, ?, ?, ?)');
  for (const location of locations) {
    const byLocation = config.safetyStock.byLocation;
    const safety = Object.hasOwn(byLocation, location.locationName) ? byLocation[location.locationName]! : null;
    insertLoc.run(location.locationId, location.locationName, location.authority ?? null, safety);
    location.warehouses.forEach((warehouse, ord) => insertWh.run(warehouse, location.locationId, location.warehouses.length > 1 ? 1 : 0, location.authority ?? null, safety, ord));
  }
  const insertBundle = db.prepare('INSERT INTO t_bundle VALUES (?)');
  for (const sku of bundles.keys()) insertBundle.run(sku);
  // Bundle components keep their rows, ok or not: the bundles are computed from them.
  const insertComponent = db.prepare('INSERT OR IGNORE INTO t_component VALUES (?)');
  for (const components of bundles.values()) for (const c of components) insertComponent.run(c.sku);

  // One row per ERP SKU, with the SKU-level inputs of the rules looked up once: its bySku and byCategory
  // safety stock, and its category's authority.
  db.prepare(`INSERT INTO t_erp_sku (sku, category) SELECT sku, MAX(category) FROM erp_levels WHERE snapshot_id = ? GROUP BY sku`).run(erpId);
  const setSkuSafety = db.prepare('UPDATE t_erp_sku SET sku_safety = ? WHERE sku = ?');
  for (const [sku, quantity] of Object.entries(config.safetyStock.bySku)) setSkuSafety.run(quantity, sku);
  const setCategorySafety = db.prepare('UPDATE t_erp_sku SET category_safety = ? WHERE category = ?');
  for (const [category, quantity] of Object.entries(config.safetyStock.byCategory)) setCategorySafety.run(quantity, category);
  const setAuthority = db.prepare('UPDATE t_erp_sku SET authority = ? WHERE category = ?');
  for (const [category, authority] of Object.entries(config.authority.byCategory)) setAuthority.run(authority, category);

  // The pool: warehouses mapped to one location add up. safety stays NULL where no pooled row has one.
  // Only locations with several warehouses need the GROUP BY (a sort); single-warehouse locations are
  // read straight from erp_levels by the join.
  db.prepare(
    `INSERT INTO t_erp (sku, location_id, on_hand, reserved, safety)
     SELECT e.sku, w.location_id, SUM(e.on_hand), SUM(e.reserved), SUM(e.safety_stock)
     FROM erp_levels e JOIN t_wh w ON w.warehouse = e.warehouse AND w.pooled = 1
     WHERE e.snapshot_id = ? GROUP BY e.sku, w.location_id`,
  ).run(erpId);
  db.prepare(
    `INSERT INTO t_shop_sku (sku, item_id, n_items)
     SELECT MIN(sku), MIN(inventory_item_id), COUNT(*) FROM shopify_items WHERE snapshot_id = ? AND sku IS NOT NULL AND sku <> '' GROUP BY sku COLLATE ${collate}`,
  ).run(shopifyId);
  db.exec('UPDATE t_erp_sku SET (item_id, n_items) = (SELECT s.item_id, s.n_items FROM t_shop_sku s WHERE s.sku = t_erp_sku.sku)');
}

/** skuMatch: SQLite's NOCASE folds ASCII letters, which is what SKU codes are made of. */
function skuCollation(config: LoadedConfig): 'BINARY' | 'NOCASE' {
  return config.skuMatch === 'case-insensitive' ? 'NOCASE' : 'BINARY';
}

/** Two ERP SKUs that differ only by case cannot be matched without case: say so rather than merge them. */
function refuseCaseTwins(db: Db, erpId: number): void {
  const twins = db
    .prepare(`SELECT GROUP_CONCAT(sku, ', ') FROM (SELECT DISTINCT sku FROM erp_levels WHERE snapshot_id = ?) GROUP BY sku COLLATE NOCASE HAVING COUNT(*) > 1 LIMIT 5`)
    .pluck()
    .all(erpId) as string[];
  if (twins.length > 0) {
    throw new InputError(`skuMatch "case-insensitive": the ERP export has SKUs that differ only by case (${twins.join('; ')}); they cannot be told apart: fix the export or use skuMatch "exact"`);
  }
}

/** One spelling of a SKU for near-match hints: no case, no leading zeros, Excel's 1.23E+11 written out. */
function nearKey(sku: string): string {
  const lower = sku.toLowerCase();
  const excel = /^(\d+)(?:\.(\d+))?e\+(\d+)$/.exec(lower);
  if (excel) {
    const [, whole, fraction = '', exponent] = excel;
    const digits = whole! + fraction;
    const zeros = Number(exponent) - fraction.length;
    if (zeros >= 0 && zeros < 30) return (digits + '0'.repeat(zeros)).replace(/^0+(?=\d)/, '');
  }
  return /^\d+$/.test(lower) ? lower.replace(/^0+(?=\d)/, '') : lower;
}

function nearReason(erp: string, shop: string): string {
  if (erp.toLowerCase() === shop.toLowerCase()) return 'differ only by letter case (skuMatch: "case-insensitive" matches them)';
  if (/e\+/i.test(erp + shop)) return "are the same number, one in Excel's scientific notation (was the export opened and saved in Excel?)";
  return 'differ only by leading zeros (was the export opened in a spreadsheet?)';
}

/**
 * ERP SKUs with no Shopify item and Shopify SKUs not in the ERP that are the same code spelt differently:
 * issues, and the Shopify side is not zeroed by unknownSkus "zero" until a person has looked.
 */
function nearMatches(db: Db, issues: string[]): void {
  db.exec('DROP TABLE IF EXISTS temp.t_near_shop; CREATE TEMP TABLE t_near_shop (sku TEXT PRIMARY KEY) WITHOUT ROWID');
  const erpOnly = db.prepare('SELECT sku FROM t_erp_sku WHERE n_items IS NULL').pluck().all() as string[];
  if (erpOnly.length === 0) return;
  const shopByKey = new Map<string, string>();
  for (const sku of db.prepare('SELECT sku FROM t_shop_sku WHERE sku NOT IN (SELECT sku FROM t_erp_sku)').pluck().iterate() as IterableIterator<string>) {
    shopByKey.set(nearKey(sku), sku);
  }
  const found: string[] = [];
  const mark = db.prepare('INSERT OR IGNORE INTO t_near_shop VALUES (?)');
  for (const erp of erpOnly) {
    const shop = shopByKey.get(nearKey(erp));
    if (shop === undefined) continue;
    mark.run(shop);
    found.push(`ERP SKU ${JSON.stringify(erp)} and Shopify SKU ${JSON.stringify(shop)} ${nearReason(erp, shop)}; they are not matched: fix one side`);
  }
  issues.push(...found.slice(0, 20));
  if (found.length > 20) issues.push(`… and ${found.length - 20} more SKUs that match only when spelt alike`);
}

function usesHybrid(config: LoadedConfig): boolean {
  return config.authority.default === 'hybrid' || Object.values(config.authority.byCategory).includes('hybrid') || config.locations.some((l) => l.authority === 'hybrid');
}

/** Fills t_diff: the full outer join of pooled ERP levels and Shopify levels at mapped locations. */
function joinLevels(db: Db, config: LoadedConfig, erpId: number, shopifyId: number, hasBundles: boolean, keep: KeepRules): void {
  const subtract = config.shopifyCommitted === 'subtract';
  // Lookups a level needs only in some configs are left out of the join when they cannot match.
  const withBase = usesHybrid(config) && db.prepare('SELECT 1 FROM reconciled_levels LIMIT 1').get() !== undefined;
  // bs: the Shopify level the base was taken from, for its committed (orders open then).
  const baseJoin = (sku: string, location: string) =>
    withBase
      ? `LEFT JOIN reconciled_levels b ON b.sku = ${sku} AND b.location_id = ${location}
         LEFT JOIN shopify_levels bs ON bs.snapshot_id = b.shopify_snapshot_id AND bs.inventory_item_id = k.item_id AND bs.location_id = ${location}`
      : '';
  const notBundle = (sku: string) => (hasBundles ? `AND ${sku} NOT IN (SELECT sku FROM t_bundle)` : '');
  const params = { erp: erpId, shop: shopifyId, default_safety: config.safetyStock.default, default_authority: config.authority.default, ...keep.filterParams };
  // ERP side: every (SKU, location) the export has stock rows for; single-warehouse locations straight
  // from the snapshot, pooled ones from t_erp.
  // `l` is the location's rules: t_loc, or the t_wh row of a single-warehouse location, which carries them.
  const erpSide = (from: string, e: { sku: string; location: string; onHand: string; reserved: string; safety: string }, where = '') =>
    insertLevels(`
     SELECT ${e.sku} AS sku, ${e.location} AS location_id, ${levelSelect({ onHand: e.onHand, reserved: e.reserved, safety: e.safety }, subtract, withBase)}
     FROM ${from}
     JOIN t_erp_sku k ON k.sku = ${e.sku}
     LEFT JOIN shopify_levels sl ON sl.snapshot_id = @shop AND sl.inventory_item_id = k.item_id AND sl.location_id = ${e.location} AND k.n_items = 1
     ${baseJoin(e.sku, e.location)}
     WHERE 1 ${notBundle(e.sku)} ${where}`, withBase, keep);
  db.prepare(
    erpSide('erp_levels e JOIN t_wh l ON l.warehouse = e.warehouse AND l.pooled = 0', {
      sku: 'e.sku',
      location: 'l.location_id',
      onHand: 'e.on_hand',
      reserved: 'e.reserved',
      safety: 'e.safety_stock',
    }, 'AND e.snapshot_id = @erp'),
  ).run(params);
  db.prepare(erpSide('t_erp e JOIN t_loc l ON l.location_id = e.location_id', { sku: 'e.sku', location: 'e.location_id', onHand: 'e.on_hand', reserved: 'e.reserved', safety: 'e.safety' })).run(params);
  // Shopify side: levels of ERP SKUs at mapped locations where the export lists no row: an empty bin, 0 on hand.
  db.prepare(
    insertLevels(`
     SELECT sl.sku AS sku, sl.location_id AS location_id, ${levelSelect({ onHand: '0', reserved: '0', safety: 'NULL' }, subtract, withBase)}
     FROM shopify_levels sl
     JOIN t_loc l ON l.location_id = sl.location_id
     JOIN t_erp_sku k ON k.sku = sl.sku AND k.n_items = 1 AND k.item_id = sl.inventory_item_id
     ${baseJoin('sl.sku', 'sl.location_id')}
     WHERE sl.snapshot_id = @shop
       AND NOT EXISTS (
         SELECT 1 FROM t_wh w JOIN erp_levels e ON e.snapshot_id = @erp AND e.sku = sl.sku COLLATE ${skuCollation(config)} AND e.warehouse = w.warehouse WHERE w.location_id = sl.location_id)
       ${notBundle('sl.sku')}`, withBase, keep),
  ).run(params);

  if (config.unknownSkus !== 'ignore') {
    // Shopify levels at mapped locations whose SKU the ERP does not list at all.
    // With unknownSkus "zero", an ERP-authority level is set to 0 (unless a near match says a person
    // should look first); otherwise it is only reported.
    const zero = config.unknownSkus === 'zero';
    const inputs = { category_authority: 'NULL', location_authority: 'l.authority', default_authority: '@default_authority' };
    const zeroed = `(@zero AND sl.sku NOT IN (SELECT sku FROM t_near_shop)) AND ${toSql(AUTHORITY, inputs)} = 'erp'`;
    db.prepare(
      `INSERT INTO t_diff (sku, location_id, kind, inventory_item_id, observed, authority, authority_source, status, target)
       SELECT sl.sku, sl.location_id, 'shopify-only', sl.inventory_item_id, sl.available, ${toSql(AUTHORITY, inputs)}, ${toSql(AUTHORITY_SOURCE, inputs)},
         CASE WHEN ${zeroed} AND sl.available <> 0 THEN 'change' WHEN ${zeroed} THEN 'ok' ELSE 'not-in-erp' END,
         CASE WHEN ${zeroed} THEN 0 END
       FROM shopify_levels sl JOIN t_loc l ON l.location_id = sl.location_id
       WHERE sl.snapshot_id = @shop AND sl.sku IS NOT NULL AND sl.sku <> ''
         AND NOT EXISTS (SELECT 1 FROM t_erp_sku k WHERE k.sku = sl.sku)
         AND sl.sku NOT IN (SELECT sku FROM t_bundle)`,
    ).run({ shop: shopifyId, default_authority: config.authority.default, zero: zero ? 1 : 0 });
  }
}

/** Bundles: per location, the minimum over components of floor(component available / quantity). */
function joinBundles(db: Db, config: LoadedConfig, locations: ResolvedLocation[], shopifyId: number, bundles: BundleMap, issues: string[]): void {
  if (bundles.size === 0) return;
  const inErp = db.prepare('SELECT sku FROM t_erp_sku WHERE sku IN (SELECT sku FROM t_bundle) ORDER BY sku').pluck().all() as string[];
  if (inErp.length > 0) {
    throw new InputError(
      `${config.bundles.csv}: bundle SKU${inErp.length > 1 ? 's' : ''} ${inErp.map((s) => JSON.stringify(s)).join(', ')} also in the ERP export; a bundle has no stock of its own (remove it from one of the two)`,
    );
  }
  const components = new Set([...bundles.values()].flatMap((list) => list.map((c) => c.sku)));
  const missing = [...components].filter((sku) => !bundles.has(sku) && !db.prepare('SELECT 1 FROM t_erp_sku WHERE sku = ?').get(sku)).sort();
  for (const sku of missing) issues.push(`bundle component ${JSON.stringify(sku)} is not in the ERP export: counted as 0 available`);

  const componentAvailable = db.prepare('SELECT erp_available FROM t_diff WHERE sku = ? AND location_id = ? AND kind = ?').pluck();
  const level = db.prepare(
    `SELECT sh.item_id, sh.n_items, sl.available, sl.committed FROM t_shop_sku sh
     LEFT JOIN shopify_levels sl ON sl.snapshot_id = ? AND sl.inventory_item_id = sh.item_id AND sl.location_id = ? WHERE sh.sku = ?`,
  );
  const base = db.prepare(
    `SELECT r.erp_available, r.shopify_available, bs.committed FROM reconciled_levels r
     LEFT JOIN shopify_levels bs ON bs.snapshot_id = r.shopify_snapshot_id AND bs.sku = r.sku AND bs.location_id = r.location_id
     WHERE r.sku = ? AND r.location_id = ?`,
  );
  const insert = db.prepare(
    `INSERT INTO t_diff (sku, location_id, kind, inventory_item_id, safety, safety_source, erp_available, clamped, observed, authority, authority_source,
       base_erp, base_shopify, orders, status, target, limited_by)
     VALUES (@sku, @location, 'bundle', @item, @safety, @safetySource, @available, 0, @observed, @authority, @authoritySource, @baseErp, @baseShopify, @orders, @status, @target, @limitedBy)`,
  );
  for (const location of locations) {
    const computed = new Map<string, number>();
    for (const bundle of bundleOrder(bundles)) {
      const safety = Object.hasOwn(config.safetyStock.bySku, bundle) ? config.safetyStock.bySku[bundle]! : 0;
      const { available, limitedBy } = bundleAvailable(
        bundles.get(bundle)!,
        (sku) => computed.get(sku) ?? ((componentAvailable.get(sku, location.locationId, 'level') as number | undefined) ?? 0),
        safety,
      );
      computed.set(bundle, available);
      const shop = level.get(shopifyId, location.locationId, bundle) as { item_id: string; n_items: number; available: number | null; committed: number | null } | undefined;
      // A bundle has no category: the location's authority, else the default.
      const { authority, source: authoritySource } = resolveAuthority(config, null, location.authority);
      const prior = base.get(bundle, location.locationId) as { erp_available: number; shopify_available: number; committed: number | null } | undefined;
      const observed = shop?.n_items === 1 ? shop.available : null;
      const { status, target, orders, worth } = decideLevel({
        nItems: shop?.n_items ?? null,
        observed,
        erpAvailable: available,
        authority,
        committed: shop?.committed ?? null,
        base: prior && { erp: prior.erp_available, shopify: prior.shopify_available, committed: prior.committed },
      });
      if (!worth) continue;
      insert.run({
        sku: bundle,
        location: location.locationId,
        item: shop?.item_id ?? null,
        safety,
        safetySource: safety ? 'bySku' : 'default',
        available,
        observed,
        authority,
        authoritySource,
        baseErp: prior?.erp_available ?? null,
        baseShopify: prior?.shopify_available ?? null,
        orders,
        status,
        target,
        limitedBy,
      });
    }
  }
}

interface DiffRecord {
  sku: string;
  location_id: string;
  location_name: string;
  kind: DiffRow['kind'];
  inventory_item_id: string | null;
  on_hand: number | null;
  reserved: number | null;
  safety: number | null;
  safety_source: SafetySource | null;
  committed: number | null;
  erp_available: number | null;
  clamped: number | null;
  observed: number | null;
  authority: Authority;
  base_erp: number | null;
  base_shopify: number | null;
  orders: number | null;
  category: string | null;
  status: RowStatus;
  target: number | null;
  limited_by: string | null;
}

/**
 * The ERP side of a level's reason: on_hand − reserved − safety (− committed) = available, with why it
 * was clamped. The plan stores only these numbers and rebuilds the text with this function.
 */
export function levelFormula(onHand: number, reserved: number, safety: number, safetySource: SafetySource, committed: number): string {
  const raw = onHand - reserved - safety - committed;
  const safetyLabel = safetySource === 'erp' ? 'ERP column' : `safetyStock.${safetySource}`;
  const clamp = raw >= 0 ? '' : onHand < reserved ? ' (reserved exceeds on hand: clamped to 0, check the ERP data)' : ' (clamped to 0)';
  return `on_hand ${onHand} − reserved ${reserved} − safety ${safety} (${safetyLabel})${committed ? ` − Shopify committed ${committed}` : ''} = ${Math.max(0, raw)}${clamp}`;
}

/** Orders Shopify took since the base, which the ERP's figure also carries: added back once. */
function ordersNote(r: DiffRecord): string {
  return r.orders ? ` + ${r.orders} Shopify order${r.orders === 1 ? '' : 's'} the ERP counts too` : '';
}

export function explain(r: DiffRecord, bundles: BundleMap): string {
  const formula =
    r.kind === 'bundle'
      ? `bundle: min over ${(bundles.get(r.sku) ?? []).map((c) => `${c.sku}/${c.quantity}`).join(', ')} = ${r.erp_available}${r.limited_by ? ` (limited by ${r.limited_by}${r.safety ? `, less safety ${r.safety}` : ''})` : ''}`
      : levelFormula(r.on_hand ?? 0, r.reserved ?? 0, r.safety ?? 0, r.safety_source ?? 'default', r.committed ?? 0);
  switch (r.status) {
    case 'not-in-shopify':
      return `not in Shopify (no item has this SKU): ${formula}`;
    case 'ambiguous-sku':
      return `several Shopify items share this SKU: not changed`;
    case 'not-stocked':
      return `item not stocked at this location in Shopify: ${formula}`;
    case 'not-in-erp':
      return 'not in the ERP export (unknownSkus: report)';
    case 'erp-correction':
      return `authority shopify: ERP should change by ${signed((r.observed ?? 0) - (r.erp_available ?? 0))}; ${formula}`;
    case 'conflict':
      return `hybrid conflict: base ${r.base_shopify}, ERP ${signed((r.erp_available ?? 0) - (r.base_erp ?? 0))}, Shopify ${signed((r.observed ?? 0) - (r.base_shopify ?? 0))}${ordersNote(r)} would give ${String(evaluate(MERGED, r))}`;
    default:
      break;
  }
  if (r.kind === 'shopify-only') return 'not in the ERP export (unknownSkus: zero)';
  if (r.authority === 'hybrid') {
    if (r.base_erp === null) return `hybrid, no reconciled base yet (ERP taken): ${formula}`;
    return `hybrid: Shopify ${r.observed} + ERP ${signed((r.erp_available ?? 0) - r.base_erp)} since base${ordersNote(r)} = ${r.target}; ${formula}`;
  }
  return formula;
}

function toRow(r: DiffRecord, bundles: BundleMap): DiffRow {
  const delta = r.target === null || r.observed === null ? null : r.target - r.observed;
  return {
    sku: r.sku,
    locationId: r.location_id,
    locationName: r.location_name,
    inventoryItemId: r.inventory_item_id,
    target: r.target,
    observed: r.observed,
    delta,
    status: r.status,
    authority: r.authority,
    reason: explain(r, bundles),
    kind: r.kind,
    erp:
      r.kind === 'shopify-only'
        ? null
        : {
            onHand: r.on_hand ?? 0,
            reserved: r.reserved ?? 0,
            safetyStock: r.safety ?? 0,
            safetySource: r.safety_source ?? 'default',
            shopifyCommitted: r.committed ?? 0,
            available: r.erp_available ?? 0,
            clamped: r.clamped === 1,
          },
    hybrid:
      r.base_erp === null || r.base_shopify === null || r.observed === null
        ? null
        : { baseErp: r.base_erp, baseShopify: r.base_shopify, erpDelta: (r.erp_available ?? 0) - r.base_erp, shopifyDelta: r.observed - r.base_shopify },
    category: r.category,
  };
}

function locationIssues(db: Db, config: LoadedConfig, resolved: ResolvedLocation[], shopifyId: number, erpId: number, problems: string[]): string[] {
  const issues = [...problems];
  // Warehouses of a config entry that could not be used (location missing, ambiguous or mapped twice): mapped, but to nothing.
  const resolvedEntries = new Set(resolved.map((l) => l.configIndex));
  const unusedEntry = new Map<string, number>();
  config.locations.forEach((entry, index) => {
    if (!resolvedEntries.has(index)) for (const warehouse of entry.warehouses) unusedEntry.set(warehouse, index);
  });
  const unmappedWarehouses = db
    .prepare('SELECT warehouse, COUNT(*) AS n FROM erp_levels WHERE snapshot_id = ? AND warehouse NOT IN (SELECT warehouse FROM t_wh) GROUP BY warehouse ORDER BY warehouse')
    .all(erpId) as { warehouse: string; n: number }[];
  for (const w of unmappedWarehouses) {
    const entry = unusedEntry.get(w.warehouse);
    issues.push(
      entry === undefined
        ? `ERP warehouse ${JSON.stringify(w.warehouse)} is not mapped to a Shopify location (${plural(w.n, 'row')} ignored)`
        : `ERP warehouse ${JSON.stringify(w.warehouse)} belongs to locations[${entry}], which cannot be used (see above) (${plural(w.n, 'row')} ignored)`,
    );
  }
  const unmappedLocations = db
    .prepare(
      // Counts levels only at unmapped locations (usually none), not over the whole snapshot.
      `SELECT l.location_id, l.name,
         (SELECT COUNT(*) FROM shopify_levels sl WHERE sl.snapshot_id = l.snapshot_id AND sl.location_id = l.location_id) AS n
       FROM shopify_locations l
       WHERE l.snapshot_id = ? AND l.location_id NOT IN (SELECT location_id FROM t_loc) ORDER BY l.name`,
    )
    .all(shopifyId) as { location_id: string; name: string; n: number }[];
  for (const l of unmappedLocations.filter((l) => l.n > 0)) issues.push(`Shopify location ${JSON.stringify(l.name)} (${l.location_id}) stocks ${plural(l.n, 'item')} but no ERP warehouse is mapped to it: left as it is`);
  return issues;
}

function emptyLocationSummary(locationId: string, locationName: string): LocationSummary {
  return {
    locationId,
    locationName,
    levelsCompared: 0,
    levelsDrifting: 0,
    totalAbsDrift: 0,
    oversell: { levels: 0, units: 0 },
    lostSales: { levels: 0, units: 0 },
    erpDrift: { levels: 0, units: 0 },
    conflicts: 0,
    stocked: 0,
  };
}

/** Plain `ok` levels counted (not stored) by the join, per location: all of them, and those with stock in Shopify. */
export type DroppedOk = Map<string, { levels: number; stocked: number }>;

function summarize(db: Db, locations: readonly ResolvedLocation[], where: string, params: Record<string, unknown>, threshold: number, droppedOk: DroppedOk): DiffSummary {
  // One pass over t_diff, grouped by (location, status); the rest is added up here. Drift is beyond the
  // threshold: Shopify drift for a change (oversell when observed is above target, lost sales below),
  // ERP drift for an ERP correction.
  const groups = db
    .prepare(
      `SELECT location_id AS locationId, status, COUNT(*) AS n,
         SUM(observed IS NOT NULL AND (target IS NOT NULL OR status = 'conflict')) AS compared,
         SUM(observed > 0 AND (target IS NOT NULL OR status = 'conflict')) AS stocked,
         SUM(observed - target > @threshold) AS oversellLevels, SUM(CASE WHEN observed - target > @threshold THEN observed - target ELSE 0 END) AS oversellUnits,
         SUM(target - observed > @threshold) AS lostLevels, SUM(CASE WHEN target - observed > @threshold THEN target - observed ELSE 0 END) AS lostUnits,
         SUM(clamped) AS clamped
       FROM t_diff d ${where}
       GROUP BY location_id, status`,
    )
    .all({ ...params, threshold }) as {
    locationId: string;
    status: RowStatus;
    n: number;
    compared: number | null;
    stocked: number | null;
    oversellLevels: number | null;
    oversellUnits: number | null;
    lostLevels: number | null;
    lostUnits: number | null;
    clamped: number | null;
  }[];
  const names = new Map(locations.map((l) => [l.locationId, l.locationName]));
  const byId = new Map<string, LocationSummary>();
  const locationOf = (locationId: string) => {
    let location = byId.get(locationId);
    if (!location) {
      location = emptyLocationSummary(locationId, names.get(locationId) ?? locationId);
      byId.set(locationId, location);
    }
    return location;
  };
  const counts = new Map<string, number>();
  let clamped = 0;
  for (const g of groups) {
    counts.set(g.status, (counts.get(g.status) ?? 0) + g.n);
    clamped += g.clamped ?? 0;
    const location = locationOf(g.locationId);
    if (g.status !== 'ambiguous-sku') {
      location.levelsCompared += g.compared ?? 0;
      location.stocked += g.stocked ?? 0;
    }
    const levels = (g.oversellLevels ?? 0) + (g.lostLevels ?? 0);
    const units = (g.oversellUnits ?? 0) + (g.lostUnits ?? 0);
    if (driftKind(g.status) === 'shopify') {
      location.oversell.levels += g.oversellLevels ?? 0;
      location.oversell.units += g.oversellUnits ?? 0;
      location.lostSales.levels += g.lostLevels ?? 0;
      location.lostSales.units += g.lostUnits ?? 0;
      location.levelsDrifting += levels;
      location.totalAbsDrift += units;
    } else if (driftKind(g.status) === 'erp') {
      location.erpDrift.levels += levels;
      location.erpDrift.units += units;
    } else if (g.status === 'conflict') location.conflicts += g.n;
  }
  for (const [locationId, dropped] of droppedOk) {
    const location = locationOf(locationId);
    location.levelsCompared += dropped.levels;
    location.stocked += dropped.stocked;
    counts.set('ok', (counts.get('ok') ?? 0) + dropped.levels);
  }
  const byLocation = [...byId.values()].sort((a, b) => (a.locationName < b.locationName ? -1 : a.locationName > b.locationName ? 1 : 0));
  // Every total is the sum of its locations.
  const sum = (pick: (l: LocationSummary) => number) => byLocation.reduce((total, l) => total + pick(l), 0);
  return {
    threshold,
    levelsCompared: sum((l) => l.levelsCompared),
    levelsDrifting: sum((l) => l.levelsDrifting),
    totalAbsDrift: sum((l) => l.totalAbsDrift),
    oversell: { levels: sum((l) => l.oversell.levels), units: sum((l) => l.oversell.units) },
    lostSales: { levels: sum((l) => l.lostSales.levels), units: sum((l) => l.lostSales.units) },
    erpDrift: { levels: sum((l) => l.erpDrift.levels), units: sum((l) => l.erpDrift.units) },
    conflicts: sum((l) => l.conflicts),
    stocked: sum((l) => l.stocked),
    byLocation,
    reported: {
      'erp-correction': counts.get('erp-correction') ?? 0,
      conflict: counts.get('conflict') ?? 0,
      'not-in-shopify': counts.get('not-in-shopify') ?? 0,
      'not-stocked': counts.get('not-stocked') ?? 0,
      'not-in-erp': counts.get('not-in-erp') ?? 0,
      'ambiguous-sku': counts.get('ambiguous-sku') ?? 0,
      clamped,
    },
  };
}

/** A diff computed into the connection's temporary tables: summary and issues now, rows read on demand. */
export interface PreparedDiff extends Omit<DiffResult, 'rows'> {
  /** The mapped Shopify locations, by name. */
  locations: { locationId: string; locationName: string }[];
  /** Rows in report order (location name, then SKU), read from SQL one at a time: memory stays flat in rows. */
  rows(): IterableIterator<DiffRow>;
  /** The first `limit` rows of each location in report order, and how many rows each location has in all. */
  firstRowsByLocation(limit: number): { rows: IterableIterator<DiffRow>; counts: Map<string, number> };
  /**
   * The rows a plan freezes, in plan order: `changes` (sets before hybrid adjusts, then by location id and
   * SKU), `hybrid-ok` (hybrid levels equal on both sides: the new base), by location id and SKU.
   */
  planRows(section: 'changes' | 'hybrid-ok'): IterableIterator<DiffRow>;
  /**
   * ERP corrections (Shopify-authoritative levels), with the warehouse the correction goes to: the
   * location's first mapped warehouse (config order) that lists the SKU, else its first one.
   */
  erpCorrectionRows(): IterableIterator<{ row: DiffRow; warehouse: string; onHand: number | null }>;
  /** Levels the two sides disagree on (DRIFT_STATUSES) with |delta| above `above`, largest first. */
  driftingRows(above: number): IterableIterator<DiffRow>;
  /** Shopify changes (status change) beyond |delta| `above`: how many and their total |delta|, counted in SQL. */
  changeTotals(above?: number): { changes: number; totalAbsDelta: number; aboveLimit: number };
}

/** The counts a gate looks at, from a diff summary. */
export function driftCounts(summary: DiffSummary): { shopify: number; erp: number; conflicts: number } {
  return { shopify: summary.levelsDrifting, erp: summary.erpDrift.levels, conflicts: summary.conflicts };
}

/**
 * A mapping that matches no Shopify location, or a shop with no levels at any mapped one (an empty
 * shop, every location renamed), compares nothing: that must fail, not pass as "no drift".
 */
function refuseEmptyComparison(db: Db, shopify: SnapshotInfo, locations: { id: string; name: string }[], resolved: ResolvedLocation[], problems: string[]): void {
  const known = locations.length ? locations.slice(0, 10).map((l) => JSON.stringify(l.name)).join(', ') + (locations.length > 10 ? ', …' : '') : 'none';
  if (resolved.length === 0) {
    throw new InputError(`no entry of locations matches a Shopify location of snapshot #${shopify.id} (Shopify has: ${known}); nothing to compare`, problems);
  }
  const ids = resolved.map((l) => l.locationId);
  const stocked = db.prepare(`SELECT 1 FROM shopify_levels WHERE snapshot_id = ? AND location_id IN (${ids.map(() => '?').join(', ')}) LIMIT 1`).get(shopify.id, ...ids);
  if (stocked === undefined) {
    throw new InputError(
      `Shopify snapshot #${shopify.id} has no inventory levels at any mapped location (${resolved.map((l) => JSON.stringify(l.locationName)).join(', ')}): an empty shop, or the wrong shop; nothing to compare`,
      problems,
    );
  }
}

/**
 * Joins an ERP and a Shopify snapshot (the newest of each unless given) and computes, per SKU and
 * Shopify location, the target and observed available with the rule that decided. Reads snapshots
 * only: no network. The rows stay in SQL until read, so a diff where every level drifts prints in flat memory.
 * The connection must not run another diff while rows are being read.
 */
export function prepareDiff(db: Db, config: LoadedConfig, options: DiffOptions = {}): PreparedDiff {
  const erpSnapshot = pickSnapshot(db, 'erp', options.erpSnapshotId);
  const shopifySnapshot = pickSnapshot(db, 'shopify', options.shopifySnapshotId);
  const threshold = options.threshold ?? 0;
  const bundles = config.bundles.csv ? readBundles(config.bundles.csv) : new Map();
  const shopifyLocations = db.prepare('SELECT location_id AS id, name FROM shopify_locations WHERE snapshot_id = ? ORDER BY name').all(shopifySnapshot.id) as { id: string; name: string }[];
  const { resolved, problems } = resolveLocations(config, shopifyLocations);
  refuseEmptyComparison(db, shopifySnapshot, shopifyLocations, resolved, problems);
  if (options.location !== undefined && !resolved.some((l) => l.locationName === options.location || l.locationId === options.location)) {
    // A typo must not pass the CI gate as "no drift".
    throw new UsageError(
      `--location ${JSON.stringify(options.location)}: no mapped Shopify location has this name or id (mapped: ${resolved.map((l) => l.locationName).join(', ') || 'none'})`,
    );
  }
  const issues: string[] = [];
  const filters: string[] = [];
  const params: Record<string, unknown> = {};
  if (options.sku) {
    filters.push('sku GLOB @sku');
    params.sku = options.sku;
  }
  if (options.location) {
    filters.push('location_id = @location');
    params.location = resolved.find((l) => l.locationName === options.location || l.locationId === options.location)!.locationId;
  }
  const droppedOk: DroppedOk = new Map();
  db.function(DROPPED_OK_FUNCTION, { varargs: false }, (locationId: unknown, inFilter: unknown, stocked: unknown) => {
    if (!inFilter) return 0;
    const counts = droppedOk.get(locationId as string);
    if (counts) {
      counts.levels++;
      if (stocked) counts.stocked++;
    } else droppedOk.set(locationId as string, { levels: 1, stocked: stocked ? 1 : 0 });
    return 0;
  });
  const keep: KeepRules = { all: Boolean(options.all), hybridOk: Boolean(options.hybridOk), inFilter: filters.length ? filters.join(' AND ') : '1', filterParams: params };
  // Temporary tables in a file, not in memory: when every level drifts t_diff holds them all, and
  // the page cache keeps the heap flat while SQLite sorts them for the report order.
  db.pragma('temp_store = FILE');
  const where = filters.length ? `WHERE ${filters.map((f) => `d.${f}`).join(' AND ')}` : '';
  const summary = db.transaction(() => {
    stageRules(db, config, resolved, erpSnapshot.id, shopifySnapshot.id, bundles);
    const hints: string[] = [];
    nearMatches(db, hints);
    joinLevels(db, config, erpSnapshot.id, shopifySnapshot.id, bundles.size > 0, keep);
    joinBundles(db, config, resolved, shopifySnapshot.id, bundles, issues);
    issues.unshift(...locationIssues(db, config, resolved, shopifySnapshot.id, erpSnapshot.id, problems), ...hints);
    return summarize(db, resolved, where, params, threshold, droppedOk);
  })();
  const hidden = `d.status = 'ok' OR (d.status IN ('change', 'erp-correction') AND ABS(d.target - d.observed) <= @threshold)`;
  const kept = options.hybridOk ? `(NOT (${hidden}) OR (d.status = 'ok' AND d.authority = 'hybrid'))` : `NOT (${hidden})`;
  const rowFilter = options.all ? where : `${where ? `${where} AND` : 'WHERE'} ${kept}`;
  const rowParams = options.all ? params : { ...params, threshold };
  const select = `SELECT d.*, l.name AS location_name FROM t_diff d JOIN t_loc l ON l.location_id = d.location_id ${rowFilter}`;
  const mapped = function* (records: IterableIterator<unknown>): IterableIterator<DiffRow> {
    for (const record of records) yield toRow(record as DiffRecord, bundles);
  };
  return {
    erpSnapshot,
    shopifySnapshot,
    summary,
    issues,
    locations: resolved.map((l) => ({ locationId: l.locationId, locationName: l.locationName })),
    rows: () => mapped(db.prepare(`${select} ORDER BY l.name, d.sku`).iterate(rowParams)),
    firstRowsByLocation(limit) {
      const counts = new Map(
        (db.prepare(`SELECT d.location_id AS id, COUNT(*) AS n FROM t_diff d ${rowFilter} GROUP BY d.location_id`).all(rowParams) as { id: string; n: number }[]).map((c) => [c.id, c.n]),
      );
      // Per location, the first rows in SKU order: a top-N sort per location, never the whole table at once.
      const first = db.prepare(`${select} ${rowFilter ? 'AND' : 'WHERE'} d.location_id = @first_location ORDER BY d.sku LIMIT @first_limit`);
      const locations = resolved.filter((l) => counts.has(l.locationId)).sort((a, b) => (a.locationName < b.locationName ? -1 : a.locationName > b.locationName ? 1 : 0));
      const rows = function* (): IterableIterator<DiffRow> {
        for (const location of locations) {
          const records = first.all({ ...rowParams, first_location: location.locationId, first_limit: limit }) as DiffRecord[];
          for (const record of records) yield toRow(record, bundles);
        }
      };
      return { rows: rows(), counts };
    },
    planRows(section) {
      const condition =
        section === 'changes'
          ? `d.status = 'change' AND ABS(d.target - d.observed) > @threshold`
          : `d.authority = 'hybrid' AND d.status = 'ok' AND d.observed IS NOT NULL AND d.kind <> 'shopify-only'`;
      const order = section === 'changes' ? `(d.authority = 'hybrid' AND d.base_erp IS NOT NULL AND d.base_shopify IS NOT NULL), d.location_id, d.sku` : 'd.location_id, d.sku';
      return mapped(db.prepare(`${select} ${rowFilter ? 'AND' : 'WHERE'} ${condition} ORDER BY ${order}`).iterate({ ...params, threshold }));
    },
    driftingRows(above) {
      const drift = `d.status IN (${DRIFT_STATUSES.map((status) => `'${status}'`).join(', ')}) AND ABS(d.target - d.observed) > MAX(@above, 0)`;
      return mapped(db.prepare(`${select} ${rowFilter ? 'AND' : 'WHERE'} ${drift} ORDER BY ABS(d.target - d.observed) DESC, d.sku`).iterate({ ...rowParams, above }));
    },
    erpCorrectionRows() {
      const listed = `FROM t_wh w JOIN erp_levels e ON e.snapshot_id = @erp AND e.sku = d.sku AND e.warehouse = w.warehouse WHERE w.location_id = d.location_id ORDER BY w.ord LIMIT 1`;
      const records = db
        .prepare(
          `SELECT d.*, l.name AS location_name,
             COALESCE((SELECT w.warehouse ${listed}), (SELECT warehouse FROM t_wh WHERE location_id = d.location_id ORDER BY ord LIMIT 1), '') AS erp_warehouse,
             (SELECT e.on_hand ${listed}) AS erp_warehouse_on_hand
           FROM t_diff d JOIN t_loc l ON l.location_id = d.location_id ${rowFilter ? `${rowFilter} AND` : 'WHERE'} d.status = 'erp-correction' AND d.observed IS NOT NULL
           ORDER BY d.location_id, d.sku`,
        )
        .iterate({ ...params, threshold, erp: erpSnapshot.id }) as IterableIterator<DiffRecord & { erp_warehouse: string; erp_warehouse_on_hand: number | null }>;
      return (function* () {
        for (const r of records) yield { row: toRow(r, bundles), warehouse: r.erp_warehouse, onHand: r.erp_warehouse_on_hand };
      })();
    },
    changeTotals(above) {
      return db
        .prepare(
          `SELECT COALESCE(SUM(status = 'change'), 0) AS changes, COALESCE(SUM(CASE WHEN status = 'change' THEN ABS(target - observed) END), 0) AS totalAbsDelta,
             COALESCE(SUM(@above IS NOT NULL AND status <> 'ok' AND ABS(target - observed) > @above), 0) AS aboveLimit
           FROM t_diff d ${where}`,
        )
        .get({ ...params, above: above ?? null }) as { changes: number; totalAbsDelta: number; aboveLimit: number };
    },
  };
}

/** computeDiff with every row in one array: for small shops and tests; commands stream prepareDiff's rows. */
export function computeDiff(db: Db, config: LoadedConfig, options: DiffOptions = {}): DiffResult {
  const diff = prepareDiff(db, config, options);
  return { erpSnapshot: diff.erpSnapshot, shopifySnapshot: diff.shopifySnapshot, summary: diff.summary, issues: diff.issues, rows: [...diff.rows()] };
}
