import { stripVTControlCharacters } from 'node:util';
import Table from 'cli-table3';
import type { CallEvent } from '../sources/shopify/client.js';
import { num, plural } from '../text.js';

export { leftOutLine, num, plural, signed } from '../text.js';

/** Version of every `--format json` document's shape (schema/output/*.schema.json); bump on a breaking change. */
export const OUTPUT_SCHEMA_VERSION = 1;

/** One `--format json` document: the schema version first, then the output's fields. */
export function renderJson(value: object): string {
  return JSON.stringify({ schemaVersion: OUTPUT_SCHEMA_VERSION, ...value }, null, 2) + '\n';
}

/** The error document `--format json` prints on stdout when a command fails. */
export function renderJsonError(message: string, details: string[]): string {
  return renderJson({ error: { message, details } });
}

// The terminal's width, set by the CLI when stdout is a terminal; tables in a pipe keep every column whole.
let terminalColumns: number | undefined;

export function setTerminalColumns(columns: number | undefined): void {
  terminalColumns = columns && columns > 0 ? columns : undefined;
}

const MIN_COLUMN = 8;

/**
 * Column widths (padding included) that fit `maxWidth`: the widest columns shrink first (their cells
 * wrap); when even that cannot fit, the last columns are dropped. Undefined when everything fits.
 */
export function fitColumns(natural: number[], maxWidth: number): { widths: number[]; keep: number } | undefined {
  const total = (widths: number[]) => widths.reduce((a, b) => a + b, 0) + widths.length + 1;
  if (total(natural) <= maxWidth) return undefined;
  let keep = natural.length;
  while (keep > 1 && total(natural.slice(0, keep).map((w) => Math.min(w, MIN_COLUMN))) > maxWidth) keep--;
  const kept = natural.slice(0, keep);
  // Largest cap such that every column at min(width, cap) fits.
  let cap = Math.max(...kept);
  while (cap > MIN_COLUMN && total(kept.map((w) => Math.min(w, cap))) > maxWidth) cap--;
  return { widths: kept.map((w) => Math.min(w, cap)), keep };
}

/** A plain table (no colours of its own, so it reads the same in a pipe), fitted to the terminal. */
export function renderTable(head: string[], rows: (string | number)[][], align: ('left' | 'right')[] = [], maxWidth = terminalColumns): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? num(cell) : cell)));
  const natural = head.map((h, i) => Math.max(h.length, ...cells.map((row) => stripVTControlCharacters(row[i] ?? '').length)) + 2);
  const fit = maxWidth === undefined ? undefined : fitColumns(natural, maxWidth);
  const keep = fit?.keep ?? head.length;
  const table = new Table({
    head: head.slice(0, keep),
    style: { head: [], border: [], compact: true },
    colAligns: head.slice(0, keep).map((_, i) => align[i] ?? 'left'),
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    ...(fit ? { colWidths: fit.widths, wordWrap: true } : {}),
  });
  for (const row of cells) table.push(row.slice(0, keep).map((cell, i) => (fit ? breakLongWords(cell, fit.widths[i]! - 2) : cell)));
  const dropped = head.length - keep;
  return (
    table.toString() +
    '\n' +
    (dropped > 0 ? `(${plural(dropped, 'column')} left out to fit the terminal: ${head.slice(keep).join(', ')}; widen it or use --format json)\n` : '')
  );
}

/** Splits words longer than a column (ids, rule names) so the table wraps them instead of cutting them. */
function breakLongWords(cell: string, width: number): string {
  if (width < 1 || cell.includes('\x1b')) return cell;
  return cell.replace(new RegExp(`\\S{${width + 1},}`, 'g'), (word) => word.match(new RegExp(`.{1,${width}}`, 'g'))!.join(' '));
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** One --verbose line per Shopify call: what it was, how it ended, what it cost, how long it waited. */
export function renderCallEvent(event: CallEvent): string {
  const parts = [
    `shopify: ${event.operation}${event.attempt > 1 ? ` (retry ${event.attempt - 1})` : ''} ${event.outcome}${event.status ? ` (HTTP ${event.status})` : ''}`,
  ];
  if (event.requestedCost !== undefined) parts.push(`cost ${event.actualCost ?? '?'}/${event.requestedCost}`);
  if (event.throttleStatus) parts.push(`bucket ${num(Math.floor(event.throttleStatus.currentlyAvailable))}/${num(event.throttleStatus.maximumAvailable)}`);
  parts.push(formatMs(event.latencyMs));
  if (event.waitedMs > 0) parts.push(`waited ${formatMs(event.waitedMs)} before it`);
  return parts.join(', ') + (event.message ? `: ${event.message}` : '');
}
