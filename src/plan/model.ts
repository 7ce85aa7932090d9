import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatZodIssues, parseJsonFile } from '../config/load.js';
import { InputError, StaleError } from '../errors.js';

/** Bumped when the plan file changes shape; apply refuses files of another version. */
export const PLAN_FORMAT_VERSION = 1;

const change = z.object({
  sku: z.string(),
  inventoryItemId: z.string(),
  locationId: z.string(),
  locationName: z.string(),
  from: z.int(),
  to: z.int().min(0),
  delta: z.int(),
  /** set: absolute value with compare-and-swap; adjust: a hybrid merge of deltas. */
  mode: z.enum(['set', 'adjust']),
  authority: z.enum(['erp', 'shopify', 'hybrid']),
  /** The ERP's own available for this level, recorded as the hybrid base once applied. */
  erpAvailable: z.int(),
  reason: z.string(),
});

const erpCorrection = z.object({
  sku: z.string(),
  locationId: z.string(),
  locationName: z.string(),
  warehouse: z.string(),
  current: z.int(),
  proposed: z.int(),
  delta: z.int(),
  reason: z.string(),
});

const guardCheck = z.object({
  name: z.enum(['emptyErp', 'maxChanges', 'maxZeroedShare', 'maxRowDrop', 'warehousesPresent']),
  ok: z.boolean(),
  limit: z.number(),
  value: z.number(),
  message: z.string(),
});

const snapshotRef = z.object({ snapshotId: z.int(), contentHash: z.string(), takenAt: z.string(), rows: z.int() });

export const planSchema = z.object({
  formatVersion: z.literal(PLAN_FORMAT_VERSION),
  tool: z.object({ name: z.literal('invrecon'), version: z.string() }),
  createdAt: z.string(),
  shop: z.string(),
  apiVersion: z.string(),
  baseline: z.object({ erp: snapshotRef, shopify: snapshotRef }),
  guards: z.object({ applyable: z.boolean(), forced: z.boolean(), checks: z.array(guardCheck) }),
  summary: z.object({
    changes: z.int(),
    zeroed: z.int(),
    levelsCompared: z.int(),
    unitsUp: z.int(),
    unitsDown: z.int(),
    erpCorrections: z.int(),
    conflicts: z.int(),
  }),
  changes: z.array(change),
  erpCorrections: z.array(erpCorrection),
  /** Hybrid levels already equal on both sides: applying the plan records them as the new base. */
  hybridBaseline: z.array(z.object({ sku: z.string(), locationId: z.string(), erpAvailable: z.int(), shopifyAvailable: z.int() })),
  issues: z.array(z.string()),
  digest: z.string(),
});

export type Plan = z.infer<typeof planSchema>;
export type PlanChange = z.infer<typeof change>;
export type ErpCorrection = z.infer<typeof erpCorrection>;
export type GuardCheck = z.infer<typeof guardCheck>;

/** JSON with keys sorted at every level: the same plan always serializes to the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function planDigest(plan: Omit<Plan, 'digest'> & { digest?: string }): string {
  const { digest: _ignored, ...content } = plan;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

export function serializePlan(plan: Plan): string {
  return JSON.stringify(JSON.parse(canonicalJson(plan)), null, 2) + '\n';
}

/** Reads a plan file, checking its format version and that its digest matches its content. */
export function readPlan(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`${path}: cannot read the plan: ${(error as Error).message}`);
  }
  const raw = parseJsonFile(path, text) as { formatVersion?: unknown };
  if (raw && typeof raw === 'object' && raw.formatVersion !== PLAN_FORMAT_VERSION) {
    throw new InputError(`${path}: plan format version ${JSON.stringify(raw.formatVersion)} is not supported (this invrecon reads version ${PLAN_FORMAT_VERSION}); make a new plan with "invrecon plan"`);
  }
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = formatZodIssues(parsed.error);
    throw new InputError(`${path}: not a valid plan: ${lines[0]}`, lines.slice(1));
  }
  const expected = planDigest(parsed.data);
  if (expected !== parsed.data.digest) {
    throw new StaleError(`${path}: the plan's digest does not match its content (was it edited?); make a new plan with "invrecon plan"`);
  }
  return parsed.data;
}

/** Shopify validates referenceDocumentUri as a URI; this one names the plan. */
export function planReferenceUri(plan: Pick<Plan, 'digest'>): string {
  return `invrecon://plan/${plan.digest.slice(0, 16)}`;
}
