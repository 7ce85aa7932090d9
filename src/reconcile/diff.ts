import type { LoadedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { readBundles } from './bundles.js';
import { resolveLocations } from './locations.js';
import { DRIFT_STATUSES, type DiffOptions, type DiffResult, type DiffRow } from './diff-model.js';
import { pickSnapshot, refuseEmptyComparison } from './diff-inputs.js';
import { type DroppedOk, summarize } from './summary.js';
import { DROPPED_OK_FUNCTION, type KeepRules, joinLevels } from './join-levels.js';
import { stageRules } from './stage-rules.js';
import { nearMatches } from './near-matches.js';
import { joinBundles } from './join-bundles.js';
import { locationIssues } from './location-issues.js';
import { leftOutIssues } from './left-out.js';
import { type DiffRecord, toRow } from './explain.js';

// The diff's public shape, and the explanations views and plans reuse.
export * from './diff-model.js';
export { explain, levelFormula } from './explain.js';
export { driftCounts } from './summary.js';

/** A diff computed into the connection's temporary tables: summary and issues now, rows read on demand. */
export interface PreparedDiff extends Omit<DiffResult, 'rows'> {
  /** The mapped Shopify locations, by name. */
  locations: { locationId: string; locationName: string }[];
  /** Warehouses mapped to a deactivated Shopify location: nothing is written for their rows (the export guards leave them out). */
  inactiveWarehouses: string[];
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
  const shopifyLocations = (
    db.prepare('SELECT location_id AS id, name, is_active FROM shopify_locations WHERE snapshot_id = ? ORDER BY name').all(shopifySnapshot.id) as {
      id: string;
      name: string;
      is_active: number;
    }[]
  ).map((l) => ({ id: l.id, name: l.name, isActive: l.is_active !== 0 }));
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
  const keep: KeepRules = {
    all: Boolean(options.all),
    hybridOk: Boolean(options.hybridOk),
    inFilter: filters.length ? filters.join(' AND ') : '1',
    filterParams: params,
  };
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
    issues.unshift(...locationIssues(db, config, resolved, shopifySnapshot.id, erpSnapshot.id, problems), ...leftOutIssues(db, resolved), ...hints);
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
    inactiveWarehouses: resolved.filter((l) => !l.isActive).flatMap((l) => l.warehouses),
    rows: () => mapped(db.prepare(`${select} ORDER BY l.name, d.sku`).iterate(rowParams)),
    firstRowsByLocation(limit) {
      const counts = new Map(
        (
          db.prepare(`SELECT d.location_id AS id, COUNT(*) AS n FROM t_diff d ${rowFilter} GROUP BY d.location_id`).all(rowParams) as {
            id: string;
            n: number;
          }[]
        ).map((c) => [c.id, c.n]),
      );
      // Per location, the first rows in SKU order: a top-N sort per location, never the whole table at once.
      const first = db.prepare(`${select} ${rowFilter ? 'AND' : 'WHERE'} d.location_id = @first_location ORDER BY d.sku LIMIT @first_limit`);
      const locations = resolved
        .filter((l) => counts.has(l.locationId))
        .sort((a, b) => (a.locationName < b.locationName ? -1 : a.locationName > b.locationName ? 1 : 0));
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
      const order =
        section === 'changes'
          ? `(d.authority = 'hybrid' AND d.base_erp IS NOT NULL AND d.base_shopify IS NOT NULL), d.location_id, d.sku`
          : 'd.location_id, d.sku';
      return mapped(db.prepare(`${select} ${rowFilter ? 'AND' : 'WHERE'} ${condition} ORDER BY ${order}`).iterate({ ...params, threshold }));
    },
    driftingRows(above) {
      const drift = `d.status IN (${DRIFT_STATUSES.map((status) => `'${status}'`).join(', ')}) AND ABS(d.target - d.observed) > MAX(@above, 0)`;
      return mapped(
        db.prepare(`${select} ${rowFilter ? 'AND' : 'WHERE'} ${drift} ORDER BY ABS(d.target - d.observed) DESC, d.sku`).iterate({ ...rowParams, above }),
      );
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
        .iterate({ ...params, threshold, erp: erpSnapshot.id }) as IterableIterator<
        DiffRecord & { erp_warehouse: string; erp_warehouse_on_hand: number | null }
      >;
      return (function* () {
        for (const r of records) yield { row: toRow(r, bundles), warehouse: r.erp_warehouse, onHand: r.erp_warehouse_on_hand };
      })();
    },
    changeTotals(above) {
      return db
        .prepare(
          `SELECT COALESCE(SUM(status = 'change'), 0) AS changes, COALESCE(SUM(CASE WHEN status = 'change' THEN ABS(target - observed) END), 0) AS totalAbsDelta,
             COALESCE(SUM(@above IS NOT NULL AND status IN ('change', 'erp-correction') AND ABS(target - observed) > @above), 0) AS aboveLimit
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
