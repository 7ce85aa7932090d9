import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse, CsvError } from 'csv-parse';
import { erpColumnKeys, type ErpColumn } from '../../config/schema.js';
import { InputError } from '../../errors.js';
import type { ErpRecord, ErpSource, ErpSourceProblem } from './ingest.js';

export type Delimiter = ',' | ';' | '\t';
const REQUIRED: readonly ErpColumn[] = ['sku', 'warehouse', 'on_hand'];

/** Header names compare without case, spaces, underscores or hyphens: "Qty On Hand" = "qty_on_hand". */
export function normalizeHeader(name: string): string {
  return name.replace(/^\uFEFF/, '').toLowerCase().replace(/[\s_-]+/g, '');
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
    if (index.has(key)) problems.push(`${file}:1:${i + 1}: column ${JSON.stringify(name.trim())} appears twice (first at column ${index.get(key)! + 1})`);
    else index.set(key, i);
  });
  const mapping = new Map<ErpColumn, number>();
  for (const column of erpColumnKeys) {
    const expected = columns[column] ?? column;
    const at = index.get(normalizeHeader(expected));
    if (at !== undefined) mapping.set(column, at);
    else if (REQUIRED.includes(column)) {
      const configured = columns[column] ? ` (erp.csv.columns.${column})` : '';
      problems.push(`${file}:1: missing required column ${JSON.stringify(expected)}${configured}; the header has ${header.map((h) => JSON.stringify(h.trim())).join(', ')}`);
    }
  }
  if (problems.length > 0) throw new InputError(`${file}: unusable header`, problems);
  return mapping;
}

export interface CsvSourceOptions {
  columns?: Partial<Record<ErpColumn, string>>;
  delimiter?: Delimiter | 'auto';
}

/** A streaming CSV reader: one record at a time, never the whole file in memory. */
export function csvErpSource(path: string, options: CsvSourceOptions = {}): ErpSource {
  const file = path;
  const short = basename(path);
  return {
    name: path,
    describeOrdinal: (line) => `${short}:${line}`,
    async *records(): AsyncGenerator<ErpRecord | ErpSourceProblem> {
      const firstLine = await readFirstLine(path);
      const delimiter = !options.delimiter || options.delimiter === 'auto' ? detectDelimiter(firstLine.replace(/^\uFEFF/, '')) : options.delimiter;
      const parser = createReadStream(path).pipe(
        parse({ bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, info: true, relax_quotes: false }),
      );
      let mapping: Map<ErpColumn, number> | undefined;
      let width = 0;
      try {
        for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
          const line = info.lines;
          if (!mapping) {
            mapping = mapHeader(record, options.columns ?? {}, file);
            width = record.length;
            continue;
          }
          if (record.length !== width) {
            // A short last line is what a truncated export looks like.
            yield { problem: `${file}:${line}: expected ${width} fields as in the header, found ${record.length}${record.length < width ? ' (truncated row?)' : ''}` };
            continue;
          }
          const fields: Partial<Record<ErpColumn, string>> = {};
          for (const [column, at] of mapping) fields[column] = record[at];
          yield { fields, ordinal: line, locate: (column) => `${file}:${line}:${(mapping!.get(column) ?? 0) + 1}` };
        }
      } catch (error) {
        if (error instanceof CsvError) {
          const where = error as CsvError & { lines?: number; column?: number | string };
          throw new InputError(`${file}:${where.lines ?? '?'}: malformed CSV: ${error.message.replace(/^Invalid \w+: /, '')}`);
        }
        throw error;
      }
      if (!mapping) throw new InputError(`${file}:1: the file is empty; expected a header line (${REQUIRED.join(', ')}, …)`);
    },
  };
}
