// Writes a plan file (format 2): the rows into a side file while they are hashed, then the header that
// holds their hash and the digest. Layout and rationale: docs/plan-format.md.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../files.js';
import { levelFormula } from '../reconcile/diff.js';
import { canonicalJson, PLAN_FORMAT_VERSION, planDigest, type ErpCorrection, type HybridBase, type Plan, type PlanChange, type PlanHeader } from './model.js';
import { CHUNK, ITEM_ID_PREFIX, itemField, SECTIONS, type FormulaNumbers, type SectionName } from './file-rows.js';

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
