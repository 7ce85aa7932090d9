import { InputError } from '../../errors.js';
import type { ErpColumn } from '../../config/schema.js';
import type { Db } from '../../store/db.js';
import { ErpSnapshotWriter, type SnapshotInfo } from '../../store/snapshots.js';
import { normalizeErpRecord } from './rows.js';

/** One record from an ERP source, with its fields picked by ERP column. */
export interface ErpRecord {
  fields: Partial<Record<ErpColumn, string | number | null>>;
  /** CSV line or running record number: stored with the row and used in messages. */
  ordinal: number;
  /** Where a field of this record came from, for messages: `erp.csv:12:3`, `page 4, record 17 (on_hand)`. */
  locate(column: ErpColumn): string;
}

/** A problem with the source itself (a bad line, a broken page), already located. */
export interface ErpSourceProblem {
  problem: string;
}

export interface ErpSource {
  /** What the snapshot records as its source: a file path or an API URL. */
  name: string;
  /** How an earlier record is named in a duplicate message. */
  describeOrdinal(ordinal: number): string;
  records(): AsyncIterable<ErpRecord | ErpSourceProblem>;
}

export interface IngestOptions {
  /** Warehouses mapped in config; others are reported as warnings. */
  mappedWarehouses: ReadonlySet<string>;
  maxErrors?: number;
}

export interface ErpPullResult {
  snapshot: SnapshotInfo;
  rows: number;
  skus: number;
  warehouses: { code: string; rows: number; mapped: boolean }[];
  warnings: string[];
  durationMs: number;
}

export const DEFAULT_MAX_ERRORS = 50;

/**
 * Reads every record of the source into one new ERP snapshot. Any bad record means no snapshot:
 * the errors (up to maxErrors) are thrown together as one InputError.
 */
export async function ingestErp(db: Db, source: ErpSource, options: IngestOptions): Promise<ErpPullResult> {
  const started = performance.now();
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  const errors: string[] = [];
  let truncated = false;
  const writer = new ErpSnapshotWriter(db, source.name);
  try {
    for await (const item of source.records()) {
      if ('problem' in item) errors.push(item.problem);
      else {
        const { row, problems } = normalizeErpRecord(item.fields);
        for (const problem of problems) errors.push(`${item.locate(problem.column)}: ${problem.column} ${problem.message}`);
        if (row) {
          const firstOrdinal = writer.add(row, item.ordinal);
          if (firstOrdinal !== null) {
            errors.push(
              `${item.locate('sku')}: duplicate row for sku ${JSON.stringify(row.sku)} in warehouse ${JSON.stringify(row.warehouse)}; first at ${source.describeOrdinal(firstOrdinal)}`,
            );
          }
        }
      }
      if (errors.length >= maxErrors) {
        truncated = true;
        break;
      }
    }
    if (errors.length > 0) {
      const more = truncated ? [`(stopped after ${maxErrors} errors)`] : [];
      throw new InputError(`${source.name}: ${errors.length}${truncated ? '+' : ''} bad row${errors.length === 1 ? '' : 's'}; no snapshot written`, [...errors, ...more]);
    }
    const stats = writer.stats();
    const warehouses = [...stats.warehouses]
      .map(([code, rows]) => ({ code, rows, mapped: options.mappedWarehouses.has(code) }))
      .sort((a, b) => a.code.localeCompare(b.code));
    const warnings = warehouses
      .filter((w) => !w.mapped)
      .map((w) => `warehouse ${JSON.stringify(w.code)} is not mapped in locations (${w.rows} row${w.rows === 1 ? '' : 's'}); its stock goes to no Shopify location`);
    if (writer.rows === 0) warnings.push('the export has no rows; plans made from it will not be applyable without --force');
    const durationMs = Math.round(performance.now() - started);
    const snapshot = writer.finish({ skus: stats.skus, warehouses, warnings, durationMs });
    return { snapshot, rows: writer.rows, skus: stats.skus, warehouses, warnings, durationMs };
  } catch (error) {
    writer.abort();
    throw error;
  }
}
