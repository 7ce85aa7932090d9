// The plan file (format 2): a pretty-printed JSON header, then one compact JSON object a line for each
// change, ERP correction and hybrid base, so a plan of a million changes is written, hashed, verified
// and read in pieces, never as one string. Layout and rationale: docs/plan-format.md.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { formatZodIssues } from '../config/load.js';
import { InputError, StaleError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import { levelFormula } from '../reconcile/diff.js';
import type { SafetySource } from '../reconcile/rules.js';
import {
  canonicalJson,
  PLAN_FORMAT_VERSION,
  planDigest,
  planHeaderSchema,
  type ErpCorrection,
  type HybridBase,
  type Plan,
  type PlanChange,
  type PlanHeader,
} from './model.js';

export const ITEM_ID_PREFIX = 'gid://shopify/InventoryItem/';
/** A header larger than this is not a plan header (a format 1 plan is one JSON document). */
const MAX_HEADER_BYTES = 16 << 20;
const CHUNK = 1 << 20;

const safetySource = z.enum(['erp', 'bySku', 'byCategory', 'byLocation', 'default']);
const changeRow = z.object({
  sku: z.string(),
  item: z.union([z.int().min(1), z.string()]),
  loc: z.int().min(0),
  from: z.int(),
  to: z.int().min(0),
  /** The reason: [on_hand, reserved, safety, safety source, Shopify committed] for the plain ERP formula, else its text. */
  why: z.union([z.string(), z.tuple([z.int(), z.int(), z.int(), safetySource, z.int()])]),
  mode: z.literal('adjust').optional(),
  authority: z.enum(['hybrid', 'shopify']).optional(),
  /** The ERP's own available when it is not `to` (hybrid merges). */
  erp: z.int().optional(),
});
const erpCorrectionRow = z.object({
  sku: z.string(),
  loc: z.int().min(0),
  warehouse: z.string(),
  current: z.int(),
  proposed: z.int(),
  delta: z.int(),
  reason: z.string(),
});
const hybridBaseRow = z.object({ sku: z.string(), loc: z.int().min(0), erp: z.int(), shopify: z.int() });

export type FormulaNumbers = [onHand: number, reserved: number, safety: number, safetySource: SafetySource, committed: number];
type SectionName = 'changes' | 'erpCorrections' | 'hybridBaseline';
const SECTIONS: readonly SectionName[] = ['changes', 'erpCorrections', 'hybridBaseline'];

function itemField(id: string): number | string {
  const tail = id.startsWith(ITEM_ID_PREFIX) ? id.slice(ITEM_ID_PREFIX.length) : '';
  return /^[1-9]\d{0,14}$/.test(tail) ? Number(tail) : id;
}

/**
 * Writes a plan: rows first, into a side file while they are hashed, then the header (which holds their
 * hash and the digest), then header + rows into the final file by a rename. Memory stays flat in rows.
 */
export class PlanWriter {
  private readonly bodyPath: string;
  private readonly fd: number;
  private readonly hash: Hash = createHash('sha256');
  private pending: string[] = [];
  private pendingLength = 0;
  private bytes = 0;
  private readonly sections = {} as Record<SectionName, { offset: number; bytes: number; lines: number }>;
  private current: SectionName | undefined;
  private readonly locationIndex = new Map<string, number>();

  /** `dir`: the folder the plan will be written to (the side file goes there too, so the rename stays on one disk). */
  constructor(
    dir: string,
    private readonly locations: { id: string; name: string }[],
  ) {
    mkdirSync(dir, { recursive: true });
    this.bodyPath = join(dir, `.plan-rows.${process.pid}.${Date.now()}.tmp`);
    // wx: never follow a planted link or write into an existing file.
    this.fd = openSync(this.bodyPath, 'wx', 0o600);
    locations.forEach((l, i) => this.locationIndex.set(l.id, i));
  }

  private loc(locationId: string): number {
    const index = this.locationIndex.get(locationId);
    if (index === undefined) throw new Error(`plan row at unknown location ${locationId}`);
    return index;
  }

  private section(name: SectionName): void {
    if (this.current === name) return;
    if (this.sections[name]) throw new Error(`plan section ${name} written twice`);
    this.flush();
    this.sections[name] = { offset: this.bytes, bytes: 0, lines: 0 };
    this.current = name;
  }

  private line(name: SectionName, value: object): void {
    this.section(name);
    const text = JSON.stringify(value) + '\n';
    this.pending.push(text);
    this.pendingLength += text.length;
    this.sections[name].lines++;
    if (this.pendingLength >= CHUNK) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const buffer = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLength = 0;
    this.hash.update(buffer);
    writeSync(this.fd, buffer);
    this.bytes += buffer.length;
    if (this.current) this.sections[this.current].bytes += buffer.length;
  }

  /** `formula`: the level's ERP numbers, stored instead of the reason when they rebuild it exactly. */
  change(c: PlanChange, formula?: FormulaNumbers): void {
    const why = formula && levelFormula(...formula) === c.reason ? formula : c.reason;
    this.line('changes', {
      sku: c.sku,
      item: itemField(c.inventoryItemId),
      loc: this.loc(c.locationId),
      from: c.from,
      to: c.to,
      why,
      ...(c.mode === 'adjust' ? { mode: c.mode } : {}),
      ...(c.authority !== 'erp' ? { authority: c.authority } : {}),
      ...(c.erpAvailable !== c.to ? { erp: c.erpAvailable } : {}),
    });
  }

  erpCorrection(e: ErpCorrection): void {
    this.line('erpCorrections', {
      sku: e.sku,
      loc: this.loc(e.locationId),
      warehouse: e.warehouse,
      current: e.current,
      proposed: e.proposed,
      delta: e.delta,
      reason: e.reason,
    });
  }

  hybridBase(b: HybridBase): void {
    this.line('hybridBaseline', { sku: b.sku, loc: this.loc(b.locationId), erp: b.erpAvailable, shopify: b.shopifyAvailable });
  }

  /** Writes the file at `pathFor(digest)` and returns its header. */
  finish(
    content: Omit<PlanHeader, 'digest' | 'body' | 'locations' | 'itemIdPrefix' | 'formatVersion'>,
    pathFor: (digest: string) => string,
  ): { header: PlanHeader; path: string } {
    this.flush();
    closeSync(this.fd);
    for (const name of SECTIONS) this.sections[name] ??= { offset: this.bytes, bytes: 0, lines: 0 };
    const withoutDigest: Omit<PlanHeader, 'digest'> = {
      formatVersion: PLAN_FORMAT_VERSION,
      ...content,
      locations: this.locations,
      itemIdPrefix: ITEM_ID_PREFIX,
      body: { bytes: this.bytes, sha256: this.hash.digest('hex'), ...this.sections },
    };
    const header: PlanHeader = { ...withoutDigest, digest: planDigest(withoutDigest) };
    const path = pathFor(header.digest);
    writeFileAtomic(
      path,
      (write) => {
        write(Buffer.from(serializeHeader(header), 'utf8'));
        const input = openSync(this.bodyPath, 'r');
        try {
          const buffer = Buffer.allocUnsafe(4 * CHUNK);
          for (let n; (n = readSync(input, buffer, 0, buffer.length, null)) > 0;) write(buffer.subarray(0, n));
        } finally {
          closeSync(input);
        }
      },
      { what: 'plan file' },
    );
    rmSync(this.bodyPath, { force: true });
    return { header, path };
  }

  /** Removes the side file of a plan that will not be finished. */
  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed by finish
    }
    rmSync(this.bodyPath, { force: true });
  }
}

/** The header as it opens the file: sorted keys, two-space indent, so a small plan reads like a document. */
export function serializeHeader(header: PlanHeader): string {
  return JSON.stringify(JSON.parse(canonicalJson(header)), null, 2) + '\n';
}

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
  function* rows<T>(name: SectionName, schema: z.ZodType<T>): Generator<{ row: T; lineNo: number }> {
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
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw new InputError(`${path}:${lineNo}: not a valid ${name} row: ${formatZodIssues(parsed.error)[0]}`);
      yield { row: parsed.data, lineNo };
    }
  }
  return {
    path,
    header,
    *changes() {
      for (const { row, lineNo } of rows('changes', changeRow)) {
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

/**
 * Writes a whole plan held in memory as a plan file (its reasons as text), with a fresh rows hash and
 * digest. For tests and tools that edit a plan; `invrecon plan` streams its rows instead.
 */
export function writePlan(path: string, plan: Plan): PlanHeader {
  const writer = new PlanWriter(dirname(path), plan.locations);
  try {
    for (const change of plan.changes) writer.change(change);
    for (const correction of plan.erpCorrections) writer.erpCorrection(correction);
    for (const base of plan.hybridBaseline) writer.hybridBase(base);
    const {
      formatVersion: _version,
      body: _body,
      digest: _digest,
      locations: _locations,
      itemIdPrefix: _prefix,
      changes: _c,
      erpCorrections: _e,
      hybridBaseline: _h,
      ...content
    } = plan;
    return writer.finish(content, () => path).header;
  } catch (error) {
    writer.abandon();
    throw error;
  }
}
