import type { ErpPullResult } from '../sources/erp/ingest.js';
import { formatMs, plural, renderJson } from './common.js';

export function erpPullJson(result: ErpPullResult): Record<string, unknown> {
  return {
    snapshotId: result.snapshot.id,
    side: 'erp',
    rows: result.rows,
    skus: result.skus,
    warehouses: result.warehouses,
    source: result.snapshot.source,
    contentHash: result.snapshot.contentHash,
    takenAt: result.snapshot.takenAt,
    warnings: result.warnings,
    durationMs: result.durationMs,
  };
}

export function renderErpPull(result: ErpPullResult, format: string): string {
  if (format === 'json') return renderJson(erpPullJson(result));
  const unmapped = result.warehouses.filter((w) => !w.mapped).length;
  return (
    `ERP snapshot #${result.snapshot.id}: ${plural(result.rows, 'row')}, ${plural(result.skus, 'SKU')}, ` +
    `${plural(result.warehouses.length, 'warehouse')}${unmapped ? ` (${unmapped} unmapped)` : ''} in ${formatMs(result.durationMs)}\n`
  );
}
