import chalk from 'chalk';
import type { DiffResult, DiffRow } from '../reconcile/diff.js';
import { num, plural, renderJson, renderTable, signed } from './common.js';
import { renderCsv } from './csv.js';

export function diffJson(result: DiffResult): Record<string, unknown> {
  return {
    summary: result.summary,
    baseline: {
      erpSnapshotId: result.erpSnapshot.id,
      erpContentHash: result.erpSnapshot.contentHash,
      shopifySnapshotId: result.shopifySnapshot.id,
      shopifyContentHash: result.shopifySnapshot.contentHash,
    },
    issues: result.issues,
    rows: result.rows,
  };
}

function colourDelta(row: DiffRow): string {
  const text = row.delta === null ? '' : signed(row.delta);
  if (row.delta === null || row.delta === 0) return text;
  // Observed above target oversells (red); below it loses sales (yellow).
  return row.delta < 0 ? chalk.red(text) : chalk.yellow(text);
}

function statusLabel(row: DiffRow): string {
  switch (row.status) {
    case 'change':
      return row.delta !== null && row.delta < 0 ? chalk.red('oversell') : chalk.yellow('lost sales');
    case 'ok':
      return chalk.green('ok');
    case 'conflict':
      return chalk.magenta('conflict');
    default:
      return chalk.dim(row.status);
  }
}

export function renderDiffTable(result: DiffResult): string {
  const { summary } = result;
  const out: string[] = [];
  out.push(
    `ERP snapshot #${result.erpSnapshot.id} (${result.erpSnapshot.takenAt}) vs Shopify snapshot #${result.shopifySnapshot.id} (${result.shopifySnapshot.takenAt})`,
  );
  for (const issue of result.issues) out.push(chalk.yellow(`! ${issue}`));
  const byLocation = new Map<string, DiffRow[]>();
  for (const row of result.rows) {
    const rows = byLocation.get(row.locationName);
    if (rows) rows.push(row);
    else byLocation.set(row.locationName, [row]);
  }
  for (const [locationName, rows] of byLocation) {
    const totals = summary.byLocation.find((l) => l.locationName === locationName);
    out.push('');
    out.push(
      chalk.bold(locationName) +
        (totals ? chalk.dim(`  ${plural(totals.levelsDrifting, 'level')} drifting of ${num(totals.levelsCompared)}, |drift| ${num(totals.totalAbsDrift)}`) : ''),
    );
    out.push(
      renderTable(
        ['SKU', 'target', 'observed', 'delta', 'status', 'reason'],
        rows.map((r) => [r.sku, r.target ?? '', r.observed ?? '', colourDelta(r), statusLabel(r), r.reason]),
        ['left', 'right', 'right', 'right'],
      ).trimEnd(),
    );
  }
  out.push('');
  const reported = Object.entries(summary.reported)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${num(n)}`)
    .join(', ');
  out.push(
    `${plural(summary.levelsCompared, 'level')} compared, ${num(summary.levelsDrifting)} drifting${summary.threshold ? ` (|delta| > ${num(summary.threshold)})` : ''}, total |drift| ${num(summary.totalAbsDrift)}; ` +
      `oversell risk ${num(summary.oversell.levels)} (${plural(summary.oversell.units, 'unit')}), lost-sales risk ${num(summary.lostSales.levels)} (${plural(summary.lostSales.units, 'unit')})` +
      (reported ? `; reported: ${reported}` : ''),
  );
  return out.join('\n') + '\n';
}

export function renderDiff(result: DiffResult, format: string): string {
  if (format === 'json') return renderJson(diffJson(result));
  if (format === 'csv') {
    return renderCsv(
      ['sku', 'location_id', 'location_name', 'inventory_item_id', 'target', 'observed', 'delta', 'status', 'authority', 'reason'],
      result.rows.map((r) => [r.sku, r.locationId, r.locationName, r.inventoryItemId ?? '', r.target ?? '', r.observed ?? '', r.delta ?? '', r.status, r.authority, r.reason]),
    );
  }
  return renderDiffTable(result);
}
