import { stringify } from 'csv-stringify/sync';

/** Leading = + - @ or a tab/CR make spreadsheets run a cell as a formula: quote them as text. */
export function spreadsheetSafe(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** A CSV document (header first), safe to open in a spreadsheet. */
export function renderCsv(header: string[], rows: unknown[][]): string {
  return stringify([header]) + csvRows(rows);
}

/** CSV lines without a header, spreadsheet-safe. */
export function csvRows(rows: unknown[][]): string {
  return rows.length ? stringify(rows.map((row) => row.map(spreadsheetSafe))) : '';
}

/** A CSV document a thousand rows a chunk: long lists never sit in one string. */
export function* csvChunks<T>(header: string[], items: Iterable<T>, cells: (item: T) => unknown[]): Generator<string> {
  yield renderCsv(header, []);
  let chunk: unknown[][] = [];
  for (const item of items) {
    chunk.push(cells(item));
    if (chunk.length === 1000) {
      yield csvRows(chunk);
      chunk = [];
    }
  }
  yield csvRows(chunk);
}
