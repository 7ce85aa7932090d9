import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Bumped when the plan file changes shape; apply refuses files of another version. */
export const PLAN_FORMAT_VERSION = 2;

export const change = z.object({
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

export const erpCorrection = z.object({
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
  name: z.enum(['emptyErp', 'maxChanges', 'maxZeroedShare', 'emptiedLocations', 'maxRowDrop', 'warehousesPresent']),
  ok: z.boolean(),
  limit: z.number(),
  value: z.number(),
  message: z.string(),
});

const snapshotRef = z.object({ snapshotId: z.int(), contentHash: z.string(), takenAt: z.string(), rows: z.int() });

const location = z.object({ id: z.string(), name: z.string() });
const section = z.object({ offset: z.int().min(0), bytes: z.int().min(0), lines: z.int().min(0) });

/**
 * The plan file's header: everything but the rows, which follow it one a line (see plan/file.ts and
 * docs/plan-format.md). The digest covers the header, and the header covers the rows by their sha256.
 */
export const planHeaderSchema = z.object({
  formatVersion: z.literal(PLAN_FORMAT_VERSION),
  tool: z.object({ name: z.literal('invrecon'), version: z.string() }),
  createdAt: z.string(),
  shop: z.string(),
  apiVersion: z.string(),
  baseline: z.object({ erp: snapshotRef, shopify: snapshotRef }),
  guards: z.object({
    applyable: z.boolean(),
    forced: z.boolean(),
    checks: z.array(guardCheck),
    /** The earlier ERP exports the checks compared with: the previous snapshot and the known-good baseline. */
    references: z
      .array(
        z.object({ role: z.enum(['previous', 'last-applied', 'last-passed']), snapshotId: z.int(), rows: z.int(), vanishedWarehouses: z.array(z.string()) }),
      )
      .optional(),
  }),
  summary: z.object({
    changes: z.int(),
    zeroed: z.int(),
    levelsCompared: z.int(),
    unitsUp: z.int(),
    unitsDown: z.int(),
    erpCorrections: z.int(),
    conflicts: z.int(),
    /** Levels left out (untracked items, inactive locations); absent from plans made before they were. */
    leftOut: z.object({ levels: z.int(), ofUntrackedItems: z.int(), atInactiveLocations: z.int() }).optional(),
    /** Per location with changes: how many, their total |delta|, and how many take stock to 0. */
    byLocation: z.array(z.object({ locationId: z.string(), changes: z.int(), totalAbsDelta: z.int(), zeroed: z.int() })),
  }),
  /** Row fields `loc` index this list. */
  locations: z.array(location),
  /** A row's `item` is a number when the id is this prefix followed by it. */
  itemIdPrefix: z.string(),
  issues: z.array(z.string()),
  /** Where each section's rows are, as bytes after the header, and the sha256 of all of them. */
  body: z.object({ bytes: z.int().min(0), sha256: z.string(), changes: section, erpCorrections: section, hybridBaseline: section }),
  digest: z.string(),
});

export type PlanHeader = z.infer<typeof planHeaderSchema>;

export const hybridBase = z.object({ sku: z.string(), locationId: z.string(), erpAvailable: z.int(), shopifyAvailable: z.int() });
export type HybridBase = z.infer<typeof hybridBase>;

/** A whole plan in memory: for small plans and tests. Commands stream a PlanFile's rows instead. */
export type Plan = PlanHeader & { changes: PlanChange[]; erpCorrections: ErpCorrection[]; hybridBaseline: HybridBase[] };
export type PlanChange = z.infer<typeof change>;
export type ErpCorrection = z.infer<typeof erpCorrection>;
export type GuardCheck = z.infer<typeof guardCheck>;

/** JSON with keys sorted at every level: the same plan always serializes to the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The digest of a header: the body is in it by its sha256, so this covers every row too. */
export function planDigest(header: Omit<PlanHeader, 'digest'> & { digest?: string }): string {
  const { digest: _ignored, ...content } = header;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** Shopify validates referenceDocumentUri as a URI; this one names the plan. */
export function planReferenceUri(plan: Pick<PlanHeader, 'digest'>): string {
  return `invrecon://plan/${plan.digest.slice(0, 16)}`;
}
