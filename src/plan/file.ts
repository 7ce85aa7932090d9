// Reads a plan file (format 2): a pretty-printed JSON header, then one compact JSON object a line for each
// change, ERP correction and hybrid base, so a plan of a million changes is hashed, verified and read in
// pieces, never as one string. Layout and rationale: docs/plan-format.md; the writer is file-writer.ts.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { z } from 'zod';
import { formatZodIssues } from '../config/load.js';
import { InputError, StaleError } from '../errors.js';
import { levelFormula } from '../reconcile/diff.js';
import {
  PLAN_FORMAT_VERSION,
  planDigest,
  planHeaderSchema,
  type ErpCorrection,
  type HybridBase,
  type Plan,
  type PlanChange,
  type PlanHeader,
} from './model.js';
import { changeRow, CHUNK, erpCorrectionRow, hybridBaseRow, isChangeRow, MAX_HEADER_BYTES, SECTIONS, type SectionName } from './file-rows.js';

/** A plan file opened and verified (digest and rows' sha256); rows are read from disk on each iteration. */
export interface PlanFile {
  path: string;
  header: PlanHeader;
  changes(): Generator<PlanChange>;
  erpCorrections(): Generator<ErpCorrection>;
  hybridBaseline(): Generator<HybridBase>;
}

function readError(path: string, error: unknown): InputError {
  return new InputError(`${path}: cannot read the plan: ${(error as Error).message}`);
}

const REMAKE = 'make a new plan with "invrecon plan" (or "invrecon sync")';

/** Reads the header: the lines from the first `{` up to the first line that is exactly `}`. */
function readHeaderText(path: string, fd: number, size: number): { text: string; bytes: number } {
  const buffer = Buffer.allocUnsafe(Math.min(MAX_HEADER_BYTES, size));
  let filled = 0;
  let searchFrom = 0;
  while (filled < buffer.length) {
    const n = readSync(fd, buffer, filled, Math.min(CHUNK, buffer.length - filled), filled);
    if (n === 0) break;
    filled += n;
    if (buffer[0] !== 0x7b) break;
    const end = buffer.subarray(0, filled).indexOf('\n}\n', Math.max(0, searchFrom - 2));
    if (end >= 0) return { text: buffer.toString('utf8', 0, end + 2), bytes: end + 3 };
    searchFrom = filled;
  }
  if (buffer[0] === 0x7b && filled === size && size > 0) return { text: buffer.toString('utf8', 0, filled), bytes: size };
  // A format 1 plan larger than any header: its version is near the end (keys were sorted).
  const tail = Buffer.allocUnsafe(Math.min(size, 1 << 16));
  readSync(fd, tail, 0, tail.length, size - tail.length);
  const version = /"formatVersion": (\d+)/.exec(tail.toString('utf8'));
  if (version) throw unsupported(path, Number(version[1]));
  throw new InputError(`${path}: not an invrecon plan (no plan header at the top of the file); ${REMAKE}`);
}

function unsupported(path: string, version: unknown): InputError {
  if (version === undefined) return new InputError(`${path}: not an invrecon plan (its header has no formatVersion); ${REMAKE}`);
  return new InputError(
    `${path}: plan format version ${JSON.stringify(version)} is not supported (this invrecon reads version ${PLAN_FORMAT_VERSION}); ${REMAKE}` +
      (version === 1 ? ' from fresh snapshots: version 1 plans were one JSON document, version 2 streams its rows (docs/plan-format.md)' : ''),
  );
}

/** Opens a plan file, checking its format version, its header's digest and its rows' sha256, reading the rows once. */
export function openPlan(path: string): PlanFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw readError(path, error);
  }
  let header: PlanHeader;
  let headerBytes: number;
  let headerLines: number;
  try {
    const size = fstatSync(fd).size;
    const read = readHeaderText(path, fd, size);
    headerBytes = read.bytes;
    headerLines = read.text.split('\n').length;
    let raw: unknown;
    try {
      raw = JSON.parse(read.text);
    } catch (error) {
      throw new InputError(`${path}: not an invrecon plan (its header is not JSON: ${(error as Error).message}); ${REMAKE}`);
    }
    const version = raw && typeof raw === 'object' ? (raw as { formatVersion?: unknown }).formatVersion : undefined;
    if (version !== PLAN_FORMAT_VERSION) throw unsupported(path, version);
    const parsed = planHeaderSchema.safeParse(raw);
    if (!parsed.success) {
      const lines = formatZodIssues(parsed.error);
      throw new InputError(`${path}: not a valid plan: ${lines[0]}`, lines.slice(1));
    }
    header = parsed.data;
    if (planDigest(header) !== header.digest) throw new StaleError(`${path}: the plan's digest does not match its header (was it edited?); ${REMAKE}`);
    // The rows are covered by their sha256 in the header: one pass over them, in chunks.
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(4 * CHUNK);
    let position = headerBytes;
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, position)) > 0; position += n) hash.update(buffer.subarray(0, n));
    if (position - headerBytes !== header.body.bytes || hash.digest('hex') !== header.body.sha256) {
      throw new StaleError(`${path}: the plan's rows do not match its digest (was it edited or cut short?); ${REMAKE}`);
    }
  } finally {
    closeSync(fd);
  }
  const locations = header.locations;
  const location = (loc: number, lineNo: number) => {
    const l = locations[loc];
    if (!l) throw new InputError(`${path}:${lineNo}: location index ${loc} is not in the header's ${locations.length} locations`);
    return l;
  };
  const sectionLine = (name: SectionName) => headerLines + SECTIONS.slice(0, SECTIONS.indexOf(name)).reduce((n, s) => n + header.body[s].lines, 0);
  function* rows<T>(name: SectionName, schema: z.ZodType<T>, quickly?: (value: unknown) => value is T): Generator<{ row: T; lineNo: number }> {
    const section = header.body[name];
    let lineNo = sectionLine(name);
    for (const text of readLines(path, headerBytes + section.offset, section.bytes)) {
      lineNo++;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new InputError(`${path}:${lineNo}: not JSON: ${(error as Error).message}`);
      }
      if (quickly?.(value)) {
        yield { row: value, lineNo };
        continue;
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw new InputError(`${path}:${lineNo}: not a valid ${name} row: ${formatZodIssues(parsed.error)[0]}`);
      yield { row: parsed.data, lineNo };
    }
  }
  return {
    path,
    header,
    *changes() {
      for (const { row, lineNo } of rows('changes', changeRow, isChangeRow)) {
        const l = location(row.loc, lineNo);
        yield {
          sku: row.sku,
          inventoryItemId: typeof row.item === 'number' ? `${header.itemIdPrefix}${row.item}` : row.item,
          locationId: l.id,
          locationName: l.name,
          from: row.from,
          to: row.to,
          delta: row.to - row.from,
          mode: row.mode ?? 'set',
          authority: row.authority ?? 'erp',
          erpAvailable: row.erp ?? row.to,
          reason: typeof row.why === 'string' ? row.why : levelFormula(...row.why),
        };
      }
    },
    *erpCorrections() {
      for (const { row, lineNo } of rows('erpCorrections', erpCorrectionRow)) {
        const l = location(row.loc, lineNo);
        yield {
          sku: row.sku,
          locationId: l.id,
          locationName: l.name,
          warehouse: row.warehouse,
          current: row.current,
          proposed: row.proposed,
          delta: row.delta,
          reason: row.reason,
        };
      }
    },
    *hybridBaseline() {
      for (const { row, lineNo } of rows('hybridBaseline', hybridBaseRow)) {
        yield { sku: row.sku, locationId: location(row.loc, lineNo).id, erpAvailable: row.erp, shopifyAvailable: row.shopify };
      }
    },
  };
}

/** The lines of `length` bytes of a file from `start`, read a chunk at a time (a line never spans chunks in memory twice). */
function* readLines(path: string, start: number, length: number): Generator<string> {
  if (length === 0) return;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw readError(path, error);
  }
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let carry = Buffer.alloc(0);
    let position = start;
    const end = start + length;
    while (position < end) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, end - position), position);
      if (n === 0) throw new StaleError(`${path}: the plan file got shorter while it was read; ${REMAKE}`);
      position += n;
      const chunk = carry.length ? Buffer.concat([carry, buffer.subarray(0, n)]) : buffer.subarray(0, n);
      let from = 0;
      for (let newline = chunk.indexOf(0x0a, from); newline >= 0; newline = chunk.indexOf(0x0a, from)) {
        yield chunk.toString('utf8', from, newline);
        from = newline + 1;
      }
      carry = Buffer.from(chunk.subarray(from));
    }
    if (carry.length) yield carry.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** A whole plan in memory (small plans, tests): the header and every row. */
export function readPlan(path: string): Plan {
  const file = openPlan(path);
  return { ...file.header, changes: [...file.changes()], erpCorrections: [...file.erpCorrections()], hybridBaseline: [...file.hybridBaseline()] };
}
