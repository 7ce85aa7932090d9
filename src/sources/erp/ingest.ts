import { InputError } from '../../errors.js';
import type { ErpColumn } from '../../config/schema.js';
import type { Db } from '../../store/db.js';
import { ErpRowsHash, ErpSnapshotWriter } from '../../store/erp-snapshots.js';
import type { SnapshotInfo } from '../../store/snapshots.js';
import { normalizeErpRecord, type ErpRow } from './rows.js';

/** One record from an ERP source, with its fields picked by ERP column. */
export interface ErpRecord {
  fields: Partial<Record<ErpColumn, unknown>>;
  /** CSV line or running record number: stored with the row and used in messages. */
  ordinal: number;
  /** Where a field of this record came from, for messages: `erp.csv:12:3`, `page 4, record 17 (on_hand)`. */
  locate(column: ErpColumn): string;
}

/** A problem with the source itself (a bad line, a broken page), already located. */
export interface ErpSourceProblem {
  problem: string;
}

/** Rows already validated by the source, in bulk: the fast path of large files. */
export interface ErpBatch {
  rows: ErpRow[];
  ordinals: number[];
  /** Located problems found in this stretch of the source. */
  problems: string[];
}

export interface ErpSource {
  /** What the snapshot records as its source: a file path or an API URL. */
  name: string;
  /** How a record is named in a duplicate message: `erp.csv:12`, `page 3, record 4`. */
  describeOrdinal(ordinal: number): string;
  /** Either raw records (validated here) or validated batches. */
  records?(): AsyncIterable<ErpRecord | ErpSourceProblem>;
  batches?(): AsyncIterable<ErpBatch>;
  /** A source that hashes its rows itself (off the main thread) gives the digest here once read. */
  contentHash?(): string;
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
const RECORDS_PER_BATCH = 1000;

/** Validates one record into a batch: the row, or its located problems. */
export function addRecordToBatch(batch: ErpBatch, record: ErpRecord | ErpSourceProblem): void {
  if ('problem' in record) {
    batch.problems.push(record.problem);
    return;
  }
  const { row, problems } = normalizeErpRecord(record.fields);
  for (const problem of problems) batch.problems.push(`${record.locate(problem.column)}: ${problem.column} ${problem.message}`);
  if (row) {
    batch.rows.push(row);
    batch.ordinals.push(record.ordinal);
  }
}

export function emptyBatch(): ErpBatch {
  return { rows: [], ordinals: [], problems: [] };
}

/** The source's rows in validated batches, whichever way it yields them. */
export async function* batchesOf(source: ErpSource): AsyncGenerator<ErpBatch> {
  if (source.batches) {
    yield* source.batches();
    return;
  }
  if (!source.records) throw new Error(`ERP source ${source.name} has neither records() nor batches()`);
  let batch = emptyBatch();
  for await (const record of source.records()) {
    addRecordToBatch(batch, record);
    if (batch.rows.length + batch.problems.length >= RECORDS_PER_BATCH) {
      yield batch;
      batch = emptyBatch();
    }
  }
  if (batch.rows.length + batch.problems.length > 0) yield batch;
}

/**
 * Reads every record of the source into one new ERP snapshot. Any bad record means no snapshot:
 * the errors (up to maxErrors) are thrown together as one InputError.
 */
export async function ingestErp(db: Db, source: ErpSource, options: IngestOptions): Promise<ErpPullResult> {
  const started = performance.now();
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  const errors: string[] = [];
  const writer = new ErpSnapshotWriter(db, source.name);
  const hash = source.contentHash ? undefined : new ErpRowsHash();
  try {
    for await (const batch of batchesOf(source)) {
      errors.push(...batch.problems);
      hash?.update(batch.rows);
      // Rows still go in after an error: the primary key is what finds duplicates, and nothing is committed.
      for (const duplicate of writer.addBatch(batch.rows, batch.ordinals)) {
        const row = batch.rows[duplicate.index]!;
        errors.push(
          `${source.describeOrdinal(batch.ordinals[duplicate.index]!)}: duplicate row for sku ${JSON.stringify(row.sku)} in warehouse ${JSON.stringify(row.warehouse)}; first at ${source.describeOrdinal(duplicate.firstOrdinal)}`,
        );
      }
      if (errors.length >= maxErrors) break;
    }
    if (errors.length > 0) {
      const truncated = errors.length >= maxErrors;
      const shown = errors.slice(0, maxErrors);
      const more = truncated ? [`(stopped after ${maxErrors} errors)`] : [];
      throw new InputError(`${source.name}: ${shown.length}${truncated ? '+' : ''} bad row${shown.length === 1 ? '' : 's'}; no snapshot written`, [
        ...shown,
        ...more,
      ]);
    }
    const stats = writer.stats();
    const warehouses = [...stats.warehouses]
      .map(([code, rows]) => ({ code, rows, mapped: options.mappedWarehouses.has(code) }))
      .sort((a, b) => a.code.localeCompare(b.code));
    const warnings = warehouses
      .filter((w) => !w.mapped)
      .map(
        (w) =>
          `warehouse ${JSON.stringify(w.code)} is not mapped in locations (${w.rows} row${w.rows === 1 ? '' : 's'}); its stock goes to no Shopify location`,
      );
    if (writer.rows === 0) warnings.push('the export has no rows; plans made from it will not be applyable without --force');
    const durationMs = Math.round(performance.now() - started);
    const snapshot = writer.finish(hash ? hash.digest() : source.contentHash!(), { skus: stats.skus, warehouses, warnings, durationMs });
    return { snapshot, rows: writer.rows, skus: stats.skus, warehouses, warnings, durationMs };
  } catch (error) {
    writer.abort();
    throw error;
  }
}
