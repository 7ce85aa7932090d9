import { stringify } from 'csv-stringify/sync';

/** Leading = + - @ or a tab/CR make spreadsheets run a cell as a formula: quote them as text. */
export function spreadsheetSafe(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** A CSV document (header first), safe to open in a spreadsheet. */
export function renderCsv(header: string[], rows: unknown[][]): string {
  return stringify([header, ...rows.map((row) => row.map(spreadsheetSafe))]);
}
