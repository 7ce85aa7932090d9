import chalk from 'chalk';
import type { DiffResult, DiffRow, LocationSummary } from '../reconcile/diff.js';
import { leftOutLine, num, plural, renderJson, renderTable, signed } from './common.js';
import { csvChunks, renderCsv } from './csv.js';

/** Everything of a diff but its rows. */
export type DiffHead = Omit<DiffResult, 'rows'>;

export function diffJson(result: DiffResult): Record<string, unknown> {
  return { ...diffJsonHead(result), rows: result.rows };
}

function diffJsonHead(result: DiffHead): Record<string, unknown> {
  return {
    summary: result.summary,
    baseline: {
      erpSnapshotId: result.erpSnapshot.id,
      erpContentHash: result.erpSnapshot.contentHash,
      shopifySnapshotId: result.shopifySnapshot.id,
      shopifyContentHash: result.shopifySnapshot.contentHash,
    },
    issues: result.issues,
  };
}

/**
 * The JSON document of --format json, row by row: the summary first (it is counted in SQL before any
 * row is read), then one row a line, so a million rows never sit in one string.
 */
export function* diffJsonChunks(head: DiffHead, rows: Iterable<DiffRow>): Generator<string> {
  const top = renderJson(diffJsonHead(head)).trimEnd();
  yield `${top.slice(0, -2)},\n  "rows": [`;
  let first = true;
  for (const row of rows) {
    yield `${first ? '' : ','}\n    ${JSON.stringify(row)}`;
    first = false;
  }
  yield first ? ']\n}\n' : '\n  ]\n}\n';
}

const CSV_HEADER = ['sku', 'location_id', 'location_name', 'inventory_item_id', 'target', 'observed', 'delta', 'status', 'authority', 'reason'];
const csvCells = (r: DiffRow) => [
  r.sku,
  r.locationId,
  r.locationName,
  r.inventoryItemId ?? '',
  r.target ?? '',
  r.observed ?? '',
  r.delta ?? '',
  r.status,
  r.authority,
  r.reason,
];

/** --format csv, a thousand rows a chunk. */
export function diffCsvChunks(rows: Iterable<DiffRow>): Generator<string> {
  return csvChunks(CSV_HEADER, rows, csvCells);
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

function diffTableHeading(head: DiffHead): string[] {
  const out = [
    `ERP snapshot #${head.erpSnapshot.id} (${head.erpSnapshot.takenAt}) vs Shopify snapshot #${head.shopifySnapshot.id} (${head.shopifySnapshot.takenAt})`,
  ];
  for (const issue of head.issues) out.push(chalk.yellow(`! ${issue}`));
  return out;
}

function locationHeading(head: DiffHead, locationName: string): string {
  const totals = head.summary.byLocation.find((l) => l.locationName === locationName);
  return chalk.bold(locationName) + (totals ? chalk.dim(`  ${locationTotals(totals)}`) : '');
}

function rowsTable(rows: DiffRow[]): string {
  return renderTable(
    ['SKU', 'target', 'observed', 'delta', 'status', 'reason'],
    rows.map((r) => [r.sku, r.target ?? '', r.observed ?? '', colourDelta(r), statusLabel(r), r.reason]),
    ['left', 'right', 'right', 'right'],
  ).trimEnd();
}

/** Rows grouped by location, in the order they come (report order: location name, then SKU). */
function* byLocation(rows: Iterable<DiffRow>, chunk = Infinity): Generator<{ locationName: string; rows: DiffRow[]; first: boolean }> {
  let current: { locationName: string; rows: DiffRow[]; first: boolean } | undefined;
  for (const row of rows) {
    if (current && (current.locationName !== row.locationName || current.rows.length >= chunk)) {
      yield current;
      current = current.locationName === row.locationName ? { locationName: row.locationName, rows: [], first: false } : undefined;
    }
    if (current) current.rows.push(row);
    else current = { locationName: row.locationName, rows: [row], first: true };
  }
  if (current) yield current;
}

export function renderDiffTable(result: DiffResult): string {
  const out = diffTableHeading(result);
  for (const group of byLocation(result.rows)) out.push('', locationHeading(result, group.locationName), rowsTable(group.rows));
  out.push('', diffSummaryLine(result));
  return out.join('\n') + '\n';
}

/**
 * The table a person reads first: the summary, then per location its first rows and how many more there
 * are. `rows` are the first rows of each location, `counts` how many each has in all (by location id).
 */
export function renderDiffTableFirst(head: DiffHead, rows: Iterable<DiffRow>, counts: ReadonlyMap<string, number>, limit: number): string {
  const out = diffTableHeading(head);
  for (const group of byLocation(rows)) {
    out.push('', locationHeading(head, group.locationName), rowsTable(group.rows));
    const locationId = group.rows[0]!.locationId;
    const more = (counts.get(locationId) ?? 0) - group.rows.length;
    if (more > 0) out.push(chalk.dim(`  … and ${plural(more, 'more row')} at ${group.locationName} (--limit 0 shows them all)`));
  }
  out.push('');
  if ([...counts.values()].some((n) => n > limit)) out.push(chalk.dim(`First ${plural(limit, 'row')} of each location shown (--limit N for more).`));
  out.push(diffSummaryLine(head));
  return out.join('\n') + '\n';
}

/** The whole table (--limit 0), a location's rows in tables of at most `chunk` rows, so memory stays flat. */
export function* diffTableChunks(head: DiffHead, rows: Iterable<DiffRow>, chunk = 1000): Generator<string> {
  yield diffTableHeading(head).join('\n') + '\n';
  for (const group of byLocation(rows, chunk)) yield (group.first ? `\n${locationHeading(head, group.locationName)}\n` : '') + rowsTable(group.rows) + '\n';
  yield `\n${diffSummaryLine(head)}\n`;
}

function diffSummaryLine(head: DiffHead): string {
  const { summary } = head;
  // ERP corrections and conflicts have their own counts; the rest is only reported.
  const reported = Object.entries(summary.reported)
    .filter(([k, n]) => n > 0 && !['erp-correction', 'conflict', 'untracked', 'inactive-location'].includes(k))
    .map(([k, n]) => `${k} ${num(n)}`)
    .join(', ');
  return (
    `${plural(summary.levelsCompared, 'level')} compared, ${num(summary.levelsDrifting)} drifting in Shopify${summary.threshold ? ` (|delta| > ${num(summary.threshold)})` : ''}, total |drift| ${num(summary.totalAbsDrift)}; ` +
    `oversell risk ${num(summary.oversell.levels)} (${plural(summary.oversell.units, 'unit')}), lost-sales risk ${num(summary.lostSales.levels)} (${plural(summary.lostSales.units, 'unit')}); ` +
    `${plural(summary.erpDrift.levels, 'ERP correction')} (${plural(summary.erpDrift.units, 'unit')})` +
    (summary.conflicts ? `; ${plural(summary.conflicts, 'conflict')} left for a person` : '') +
    (reported ? `; reported: ${reported}` : '') +
    (summary.leftOut.levels ? `; ${leftOutLine(summary.leftOut)}` : '')
  );
}

function locationTotals(l: LocationSummary): string {
  const parts = [`${plural(l.levelsDrifting, 'level')} drifting in Shopify of ${num(l.levelsCompared)}, |drift| ${num(l.totalAbsDrift)}`];
  if (l.erpDrift.levels) parts.push(plural(l.erpDrift.levels, 'ERP correction'));
  if (l.conflicts) parts.push(plural(l.conflicts, 'conflict'));
  if (l.leftOut) parts.push(`${num(l.leftOut)} left out`);
  return parts.join('; ');
}

export function renderDiff(result: DiffResult, format: string): string {
  if (format === 'json') return renderJson(diffJson(result));
  if (format === 'csv') {
    return renderCsv(CSV_HEADER, result.rows.map(csvCells));
  }
  return renderDiffTable(result);
}
