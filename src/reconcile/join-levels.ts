// The set-based heart of the diff: the full outer join of pooled ERP levels and Shopify levels into t_diff.
import type { LoadedConfig } from '../config/load.js';
import type { Db } from '../store/db.js';
import { toSql } from './expr.js';
import { AUTHORITY, AUTHORITY_SOURCE, AVAILABLE, CLAMPED, decision, ORDERS, PRESENCE, SAFETY, SAFETY_SOURCE, WORTH_A_LINE } from './rules.js';
import { skuCollation } from './stage-rules.js';

/**
 * Which rows t_diff keeps. Most levels of a large shop are `ok`: they are only counted (by a function
 * the join calls), not stored, so the join writes the ~1% that say something.
 */
export interface KeepRules {
  all: boolean;
  hybridOk: boolean;
  /** SQL over the row's sku and location_id: whether it is inside --sku / --location. */
  inFilter: string;
  filterParams: Record<string, unknown>;
}

export const DROPPED_OK_FUNCTION = 'invrecon_count_dropped_ok';

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
    ${toSql(PRESENCE, { n_items: 'k.n_items', observed: 'sl.available', tracked: 'k.tracked', location_active: 'l.active' })} AS presence`;
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

function usesHybrid(config: LoadedConfig): boolean {
  return (
    config.authority.default === 'hybrid' ||
    Object.values(config.authority.byCategory).includes('hybrid') ||
    config.locations.some((l) => l.authority === 'hybrid')
  );
}

/** Fills t_diff: the full outer join of pooled ERP levels and Shopify levels at mapped locations. */
export function joinLevels(db: Db, config: LoadedConfig, erpId: number, shopifyId: number, hasBundles: boolean, keep: KeepRules): void {
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
    insertLevels(
      `
     SELECT ${e.sku} AS sku, ${e.location} AS location_id, ${levelSelect({ onHand: e.onHand, reserved: e.reserved, safety: e.safety }, subtract, withBase)}
     FROM ${from}
     JOIN t_erp_sku k ON k.sku = ${e.sku}
     LEFT JOIN shopify_levels sl ON sl.snapshot_id = @shop AND sl.inventory_item_id = k.item_id AND sl.location_id = ${e.location} AND k.n_items = 1
     ${baseJoin(e.sku, e.location)}
     WHERE 1 ${notBundle(e.sku)} ${where}`,
      withBase,
      keep,
    );
  db.prepare(
    erpSide(
      'erp_levels e JOIN t_wh l ON l.warehouse = e.warehouse AND l.pooled = 0',
      {
        sku: 'e.sku',
        location: 'l.location_id',
        onHand: 'e.on_hand',
        reserved: 'e.reserved',
        safety: 'e.safety_stock',
      },
      'AND e.snapshot_id = @erp',
    ),
  ).run(params);
  db.prepare(
    erpSide('t_erp e JOIN t_loc l ON l.location_id = e.location_id', {
      sku: 'e.sku',
      location: 'e.location_id',
      onHand: 'e.on_hand',
      reserved: 'e.reserved',
      safety: 'e.safety',
    }),
  ).run(params);
  // Shopify side: levels of ERP SKUs at mapped locations where the export lists no row: an empty bin, 0 on hand.
  db.prepare(
    insertLevels(
      `
     SELECT sl.sku AS sku, sl.location_id AS location_id, ${levelSelect({ onHand: '0', reserved: '0', safety: 'NULL' }, subtract, withBase)}
     FROM shopify_levels sl
     JOIN t_loc l ON l.location_id = sl.location_id
     JOIN t_erp_sku k ON k.sku = sl.sku AND k.n_items = 1 AND k.item_id = sl.inventory_item_id
     ${baseJoin('sl.sku', 'sl.location_id')}
     WHERE sl.snapshot_id = @shop
       AND NOT EXISTS (
         SELECT 1 FROM t_wh w JOIN erp_levels e ON e.snapshot_id = @erp AND e.sku = sl.sku COLLATE ${skuCollation(config)} AND e.warehouse = w.warehouse WHERE w.location_id = sl.location_id)
       ${notBundle('sl.sku')}`,
      withBase,
      keep,
    ),
  ).run(params);

  if (config.unknownSkus !== 'ignore') {
    // Shopify levels at mapped locations whose SKU the ERP does not list at all.
    // With unknownSkus "zero", an ERP-authority level is set to 0 (unless a near match says a person
    // should look first); otherwise it is only reported.
    const zero = config.unknownSkus === 'zero';
    const inputs = { category_authority: 'NULL', location_authority: 'l.authority', default_authority: '@default_authority' };
    const zeroed = `(@zero AND sl.sku NOT IN (SELECT sku FROM t_near_shop)) AND ${toSql(AUTHORITY, inputs)} = 'erp'`;
    // Left out as the ERP's levels are: at a deactivated location, or of an item Shopify does not track.
    const tracked = '(SELECT i.tracked FROM shopify_items i WHERE i.snapshot_id = sl.snapshot_id AND i.inventory_item_id = sl.inventory_item_id)';
    db.prepare(
      `INSERT INTO t_diff (sku, location_id, kind, inventory_item_id, observed, authority, authority_source, status, target)
       SELECT sl.sku, sl.location_id, 'shopify-only', sl.inventory_item_id, sl.available, ${toSql(AUTHORITY, inputs)}, ${toSql(AUTHORITY_SOURCE, inputs)},
         CASE WHEN l.active = 0 THEN 'inactive-location' WHEN ${tracked} = 0 THEN 'untracked'
           WHEN ${zeroed} AND sl.available <> 0 THEN 'change' WHEN ${zeroed} THEN 'ok' ELSE 'not-in-erp' END,
         CASE WHEN l.active <> 0 AND ${tracked} <> 0 AND ${zeroed} THEN 0 END
       FROM shopify_levels sl JOIN t_loc l ON l.location_id = sl.location_id
       WHERE sl.snapshot_id = @shop AND sl.sku IS NOT NULL AND sl.sku <> ''
         AND NOT EXISTS (SELECT 1 FROM t_erp_sku k WHERE k.sku = sl.sku)
         AND sl.sku NOT IN (SELECT sku FROM t_bundle)`,
    ).run({ shop: shopifyId, default_authority: config.authority.default, zero: zero ? 1 : 0 });
  }
}
