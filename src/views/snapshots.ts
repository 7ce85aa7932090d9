import type { PruneResult } from '../ops/prune.js';
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

export function renderPrune(result: PruneResult, format: string): string {
  const removed = result.snapshots.map((s) => s.id);
  if (format === 'json') {
    return renderJson({
      dryRun: result.dryRun,
      removed,
      kept: result.kept,
      protected: result.protected,
      plans: result.plans.map((p) => ({ digest: p.digest, path: p.path })),
      planFiles: result.planFiles,
    });
  }
  const out: string[] = [];
  const verb = result.dryRun ? 'Would remove' : 'Removed';
  out.push(
    removed.length === 0
      ? `Nothing to prune (${plural(result.kept, 'snapshot')} kept).`
      : `${verb} ${plural(removed.length, 'snapshot')} (${removed.join(', ')}); ${num(result.kept)} kept.`,
  );
  if (result.planFiles.length > 0)
    out.push(`${verb} ${plural(result.planFiles.length, 'plan file')} made from them:`, ...result.planFiles.map((f) => `  ${f}`));
  for (const p of result.protected) out.push(`Kept #${p.id}: ${p.reasons.join('; ')}`);
  if (result.dryRun) out.push('Dry run: nothing was removed.');
  return out.join('\n') + '\n';
}
