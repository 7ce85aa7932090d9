import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse, CsvError } from 'csv-parse';
import { erpColumnKeys, type ErpColumn } from '../../config/schema.js';
import { InputError } from '../../errors.js';
import { assertReadableFile } from '../../files.js';
import { emptyBatch, type ErpBatch, type ErpSource } from './ingest.js';
import { normalizeErpRecord, shortText, type NumberFormat } from './rows.js';
import { utf8Validator } from './utf8.js';

export type Delimiter = ',' | ';' | '\t';
const REQUIRED: readonly ErpColumn[] = ['sku', 'warehouse', 'on_hand'];

/** Header names compare without case, spaces, underscores or hyphens: "Qty On Hand" = "qty_on_hand". */
export function normalizeHeader(name: string): string {
  return name
    .replace(/^\uFEFF/, '')
    .toLowerCase()
    .replace(/[\s_-]+/g, '');
}

/** Picks the delimiter that splits the header line most, counting outside quotes. */
export function detectDelimiter(firstLine: string): Delimiter {
  const counts: Record<Delimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) counts[ch]++;
  }
  const best = (Object.entries(counts) as [Delimiter, number][]).sort((a, b) => b[1] - a[1])[0]!;
  return best[1] > 0 ? best[0] : ',';
}

async function readFirstLine(path: string): Promise<string> {
  // A folder fails late and a FIFO blocks forever: only regular files are read.
  assertReadableFile(path, 'ERP export');
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${path}: ERP export not found` : `${path}: cannot read: ${(error as Error).message}`);
  }
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    return text.split(/\r?\n/, 1)[0] ?? '';
  } finally {
    await handle.close();
  }
}

/** Maps each ERP column to its 0-based index in the header, or reports what is missing. */
export function mapHeader(header: string[], columns: Partial<Record<ErpColumn, string>>, file: string): Map<ErpColumn, number> {
  const index = new Map<string, number>();
  const problems: string[] = [];
  header.forEach((name, i) => {
    const key = normalizeHeader(name);
    if (key === '') return;
    if (index.has(key)) problems.push(`${file}:1:${i + 1}: column ${shortText(name.trim())} appears twice (first at column ${index.get(key)! + 1})`);
    else index.set(key, i);
  });
  const mapping = new Map<ErpColumn, number>();
  for (const column of erpColumnKeys) {
    const expected = columns[column] ?? column;
    const at = index.get(normalizeHeader(expected));
    if (at !== undefined) mapping.set(column, at);
    else if (REQUIRED.includes(column)) {
      const configured = columns[column] ? ` (erp.csv.columns.${column})` : '';
      const shown = header.slice(0, 20).map((h) => shortText(h.trim(), 40));
      problems.push(
        `${file}:1: missing required column ${shortText(expected)}${configured}; the header has ${shown.join(', ')}${header.length > 20 ? `, … (${header.length} columns)` : ''}`,
      );
    }
  }
  if (problems.length > 0) throw new InputError(`${file}: unusable header`, problems);
  return mapping;
}

export interface CsvSourceOptions {
  columns?: Partial<Record<ErpColumn, string>>;
  delimiter?: Delimiter | 'auto';
  decimal?: NumberFormat['decimal'];
  thousands?: NumberFormat['thousands'];
}

/** A record this large is a broken file (an unclosed quote), not data: stop before it fills memory. */
const MAX_RECORD_BYTES = 1024 * 1024;

type LinedRecord = string[] & { line?: number };

/**
 * A streaming CSV reader: records are validated in batches as they are parsed, never the whole file in
 * memory. csv-parse's `info` option costs more than the parse itself, so the line of each record is read
 * off the parser's running counter at the moment the record is pushed (the line the record ends on).
 */
export function csvErpSource(path: string, options: CsvSourceOptions = {}): ErpSource {
  const file = path;
  const short = basename(path);
  return {
    name: path,
    describeOrdinal: (line) => `${short}:${line}`,
    async *batches(): AsyncGenerator<ErpBatch> {
      const firstLine = await readFirstLine(path);
      const delimiter = !options.delimiter || options.delimiter === 'auto' ? detectDelimiter(firstLine.replace(/^\uFEFF/, '')) : options.delimiter;
      const format: NumberFormat = { decimal: options.decimal, thousands: options.thousands, delimiter };
      const parser = parse({ bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, max_record_size: MAX_RECORD_BYTES });
      const push = parser.push.bind(parser);
      parser.push = (record: LinedRecord | null) => {
        if (record !== null) record.line = parser.info.lines;
        return push(record);
      };
      let failure: unknown;
      let ended = false;
      parser.on('error', (error) => (failure = error));
      parser.on('end', () => (ended = true));
      const input = createReadStream(path);
      const utf8 = utf8Validator(path);
      input.on('error', (error) => parser.destroy(error));
      utf8.on('error', (error) => parser.destroy(error));
      input.pipe(utf8).pipe(parser);
      const waitForData = () =>
        new Promise<void>((resolve) => {
          const done = () => {
            parser.off('readable', done).off('end', done).off('error', done).off('close', done);
            resolve();
          };
          parser.on('readable', done).on('end', done).on('error', done).on('close', done);
        });

      let mapping: Map<ErpColumn, number> | undefined;
      let pick: (record: string[]) => Partial<Record<ErpColumn, string>> = () => ({});
      let width = 0;
      let batch = emptyBatch();
      for (;;) {
        let record: LinedRecord | null;
        while ((record = parser.read() as LinedRecord | null) !== null) {
          const line = record.line ?? 0;
          if (!mapping) {
            mapping = mapHeader(record, options.columns ?? {}, file);
            pick = fieldPicker(mapping);
            width = record.length;
            continue;
          }
          if (record.length !== width) {
            // A short last line is what a truncated export looks like.
            batch.problems.push(
              `${file}:${line}: expected ${width} fields as in the header, found ${record.length}${record.length < width ? ' (truncated row?)' : ''}`,
            );
            continue;
          }
          const fields = pick(record);
          const { row, problems } = normalizeErpRecord(fields, format);
          for (const problem of problems) batch.problems.push(`${file}:${line}:${mapping.get(problem.column)! + 1}: ${problem.column} ${problem.message}`);
          if (row) {
            batch.rows.push(row);
            batch.ordinals.push(line);
          }
          if (batch.rows.length >= BATCH_ROWS) {
            yield batch;
            batch = emptyBatch();
          }
        }
        if (failure) {
          input.destroy();
          throw csvFailure(file, failure);
        }
        if (ended) break;
        await waitForData();
      }
      if (!mapping) throw new InputError(`${file}:1: the file is empty; expected a header line (${REQUIRED.join(', ')}, …)`);
      if (batch.rows.length + batch.problems.length > 0) yield batch;
    },
  };
}

const BATCH_ROWS = 2000;

/** Picks the ERP columns out of a record into an object of one fixed shape (fast on a million rows). */
function fieldPicker(mapping: Map<ErpColumn, number>): (record: string[]) => Partial<Record<ErpColumn, string>> {
  const at = (column: ErpColumn) => mapping.get(column) ?? -1;
  const [sku, warehouse, onHand, reserved, incoming, safety, category] = [
    at('sku'),
    at('warehouse'),
    at('on_hand'),
    at('reserved'),
    at('incoming'),
    at('safety_stock'),
    at('category'),
  ];
  const get = (record: string[], i: number) => (i < 0 ? undefined : record[i]);
  return (record) => ({
    sku: get(record, sku),
    warehouse: get(record, warehouse),
    on_hand: get(record, onHand),
    reserved: get(record, reserved),
    incoming: get(record, incoming),
    safety_stock: get(record, safety),
    category: get(record, category),
  });
}

function csvFailure(file: string, error: unknown): Error {
  if (error instanceof InputError) return error;
  if (error instanceof CsvError && error.code === 'CSV_MAX_RECORD_SIZE') {
    const where = error as CsvError & { lines?: number };
    return new InputError(`${file}:${where.lines ?? '?'}: a record longer than ${MAX_RECORD_BYTES / 1024 / 1024} MB (an unclosed quote?); not a usable export`);
  }
  if (error instanceof CsvError) {
    const where = error as CsvError & { lines?: number };
    return new InputError(`${file}:${where.lines ?? '?'}: malformed CSV: ${error.message.replace(/^Invalid \w+: /, '')}`);
  }
  const code = (error as NodeJS.ErrnoException).code;
  return code ? new InputError(`${file}: cannot read: ${(error as Error).message}`) : (error as Error);
}
