import type { SnapshotInfo } from '../store/snapshots.js';
import { num, plural, renderJson, renderTable } from './common.js';

export function renderSnapshots(snapshots: SnapshotInfo[], format: string): string {
  if (format === 'json') {
    return renderJson({
      snapshots: snapshots.map((s) => ({ id: s.id, side: s.side, source: s.source, takenAt: s.takenAt, rows: s.rowCount, contentHash: s.contentHash })),
    });
  }
  if (snapshots.length === 0) return 'No snapshots yet: run "invrecon pull erp" and "invrecon pull shopify".\n';
  return renderTable(
    ['id', 'side', 'taken at', 'rows', 'hash', 'source'],
    snapshots.map((s) => [String(s.id), s.side, s.takenAt, s.rowCount, s.contentHash.slice(0, 12), s.source]),
    ['right', 'left', 'left', 'right'],
  );
}

export function renderPrune(removed: number[], kept: number, format: string): string {
  if (format === 'json') return renderJson({ removed, kept });
  return removed.length === 0 ? `Nothing to prune (${plural(kept, 'snapshot')} kept).\n` : `Removed ${plural(removed.length, 'snapshot')} (${removed.join(', ')}); ${num(kept)} kept.\n`;
}
