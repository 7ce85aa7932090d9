import { z } from 'zod';
import { OUTPUT_SCHEMA_VERSION } from './common.js';

// The shapes of the `--format json` documents, published as JSON Schemas in schema/output/ (npm run
// schema). Objects are open: a new field is not a breaking change; a removed or retyped one bumps
// OUTPUT_SCHEMA_VERSION. The e2e tests parse the real outputs with these definitions.

const int = z.number().int();
const count = z.number().int().min(0);
const id = z.number().int().min(1);
const iso = z.string().describe('ISO 8601 date-time');
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

function document<T extends z.ZodRawShape>(title: string, description: string, shape: T) {
  return z.looseObject({ schemaVersion: z.literal(OUTPUT_SCHEMA_VERSION).describe('version of this document shape'), ...shape }).meta({ title, description });
}

const rowStatus = z.enum([
  'ok',
  'change',
  'erp-correction',
  'conflict',
  'not-in-shopify',
  'not-stocked',
  'not-in-erp',
  'ambiguous-sku',
  'untracked',
  'inactive-location',
]);
const leftOut = z
  .looseObject({ levels: count, ofUntrackedItems: count, atInactiveLocations: count })
  .describe(
    'levels at an inactive location or of an untracked item (whether Shopify has a level there or not), left out of plans (status untracked or inactive-location): never written, no drift, not compared',
  );
const authority = z.enum(['erp', 'shopify', 'hybrid']);
const outcome = z.enum(['running', 'ok', 'drift', 'conflicts', 'refused', 'error', 'interrupted']);
const risk = z.looseObject({ levels: count, units: count });
const locationSummary = z.looseObject({
  locationId: z.string(),
  locationName: z.string(),
  levelsCompared: count,
  levelsDrifting: count,
  totalAbsDrift: count,
  oversell: risk,
  lostSales: risk,
  leftOut: count.optional().describe('levels left out at this location (untracked items, an inactive location): never written, not compared'),
});
const guardCheck = z.looseObject({ name: z.string(), ok: z.boolean(), message: z.string() });

export const errorOutput = document('invrecon error', 'What any command prints on stdout under --format json when it fails (exit 1).', {
  error: z.looseObject({ message: z.string(), details: z.array(z.string()) }),
});

export const pullErpOutput = document('invrecon pull erp', 'A new ERP snapshot.', {
  snapshotId: id,
  side: z.literal('erp'),
  rows: count,
  skus: count,
  warehouses: z.array(z.looseObject({ code: z.string(), rows: count, mapped: z.boolean() })),
  source: z.string(),
  contentHash: z.string(),
  takenAt: iso,
  warnings: z.array(z.string()),
  durationMs: z.number().min(0),
});

export const pullShopifyOutput = document('invrecon pull shopify', 'A new Shopify snapshot.', {
  snapshotId: id,
  side: z.literal('shopify'),
  rows: count,
  locations: count,
  items: count,
  mode: z.enum(['paged', 'bulk']),
  modeReason: z.string(),
  itemsWithoutSku: z.looseObject({ count, inventoryItemIds: z.array(z.string()) }),
  sharedSkus: z.looseObject({ count, skus: z.array(z.looseObject({ sku: z.string(), inventoryItemIds: z.array(z.string()) })) }),
  untrackedItems: z
    .looseObject({ count, skus: z.array(z.string()) })
    .describe('items whose quantities Shopify does not track (InventoryItem.tracked false): kept in the snapshot, left out of plans; up to 20 SKUs named'),
  inactiveLocations: z
    .looseObject({ count, names: z.array(z.string()) })
    .describe('deactivated locations (Location.isActive false): kept in the snapshot, left out of plans; up to 20 named'),
  warnings: z.array(z.string()),
  calls: count,
  retries: count,
  throttled: count,
  throttledWaits: count,
  waitedMs: z.number().min(0),
  durationMs: z.number().min(0),
  bulkOperationId: nullable(z.string()),
  source: z.string(),
  contentHash: z.string(),
  takenAt: iso,
});

export const snapshotsOutput = document('invrecon snapshots', 'The snapshot history, newest first.', {
  snapshots: z.array(z.looseObject({ id, side: z.enum(['erp', 'shopify']), source: z.string(), takenAt: iso, rows: count, contentHash: z.string() })),
});

export const pruneOutput = document('invrecon prune', 'Snapshots removed and kept.', { removed: z.array(id), kept: count });

export const diffOutput = document('invrecon diff', 'Per SKU per Shopify location: target, observed, delta (target − observed) and the rule that decided.', {
  summary: locationSummary.omit({ locationId: true, locationName: true }).extend({
    threshold: count,
    byLocation: z.array(locationSummary),
    reported: z.record(z.string(), count).describe('reported-only rows by status, and clamped levels'),
    leftOut,
  }),
  baseline: z.looseObject({ erpSnapshotId: id, erpContentHash: z.string(), shopifySnapshotId: id, shopifyContentHash: z.string() }),
  issues: z.array(z.string()),
  rows: z.array(
    z.looseObject({
      sku: z.string(),
      locationId: z.string(),
      locationName: z.string(),
      inventoryItemId: nullable(z.string()),
      target: nullable(int),
      observed: nullable(int),
      delta: nullable(int),
      status: rowStatus,
      authority,
      reason: z.string(),
      kind: z.enum(['level', 'bundle', 'shopify-only']),
      erp: nullable(z.looseObject({ onHand: int, reserved: int, safetyStock: int, available: int })),
      hybrid: nullable(z.looseObject({ baseErp: int, baseShopify: int, erpDelta: int, shopifyDelta: int })),
      category: nullable(z.string()),
    }),
  ),
});

export const planOutput = document('invrecon plan', 'The plan written (the plan file itself has its own formatVersion).', {
  planFile: nullable(z.string()),
  digest: z.string(),
  applyable: z.boolean(),
  forced: z.boolean(),
  baseline: z.looseObject({}),
  summary: z.looseObject({ changes: count, levelsCompared: count, erpCorrections: count, conflicts: count, leftOut: leftOut.optional() }),
  guards: z.array(guardCheck),
  issues: z.array(z.string()),
  erpCorrectionsFile: nullable(z.string()),
});

const rowReport = z.looseObject({ sku: z.string(), locationName: z.string(), from: int, to: int, message: z.string() });

export const applyOutput = document('invrecon apply', 'What an apply sent (or, in a dry run, would send).', {
  planDigest: z.string(),
  dryRun: z.boolean(),
  applied: count,
  skipped: count,
  conflicts: count,
  failed: count,
  alreadyApplied: z.boolean(),
  resumed: z.boolean(),
  batches: z
    .union([
      count,
      z.array(
        z.looseObject({
          batchNo: id,
          mode: z.enum(['set', 'adjust']),
          rows: z.array(z.looseObject({ sku: z.string(), locationName: z.string(), inventoryItemId: z.string(), locationId: z.string(), from: int, to: int })),
        }),
      ),
    ])
    .describe('a dry run lists the batches and their rows; a commit counts them'),
  confirmed: count.describe('of applied: rows whose answer was lost, found at their target when read again'),
  replayed: count
    .optional()
    .describe(
      'not in applied: rows another run of this plan applied under the same idempotency key (another install, or a database since lost), whose answer Shopify replayed',
    ),
  unresolved: count.describe('rows whose answer was lost and whose level is neither from nor target: left for the next plan'),
  conflictRows: z.array(rowReport),
  unresolvedRows: z.array(rowReport),
  failedRows: z.array(rowReport),
  carriedRows: z
    .array(z.looseObject({ sku: z.string(), locationName: z.string(), from: int, to: int, sentFrom: int, sentTo: int, why: z.string() }))
    .describe('rows sent with another from and target than planned, after a compare-and-swap miss'),
  peakInFlight: count.describe('most calls in flight at once'),
  calls: count,
  retries: count,
  throttledWaits: count,
  durationMs: z.number().min(0),
});

export const logOutput = document('invrecon log', 'The audit log: every call to Shopify and every level change.', {
  calls: z.array(
    z.looseObject({
      id,
      at: iso,
      planDigest: nullable(z.string()),
      batchNo: nullable(int),
      idempotencyKey: nullable(z.string()),
      operation: z.string(),
      cost: nullable(z.number()),
      latencyMs: nullable(z.number()),
      outcome: z.string(),
      detail: nullable(z.string()),
    }),
  ),
  changes: z.array(
    z.looseObject({
      id,
      at: iso,
      planDigest: nullable(z.string()),
      sku: z.string(),
      inventoryItemId: z.string(),
      locationId: z.string(),
      locationName: nullable(z.string()),
      before: nullable(int),
      after: int,
      rule: nullable(z.string()),
      outcome: z
        .enum(['applied', 'confirmed', 'unknown', 'replayed'])
        .describe(
          'confirmed: the answer was lost and a re-read found the target; unknown: lost, level elsewhere; replayed: Shopify replayed the answer of another run of this plan (applied by that run)',
        ),
    }),
  ),
});

export const syncOutput = document('invrecon sync', 'One sync run: what it pulled, planned and applied, and how it ended.', {
  runId: id,
  outcome,
  exitCode: int,
  dryRun: z.boolean(),
  phases: z.record(z.string(), z.number().min(0)).describe('milliseconds per phase: pullErp, pullShopify, plan, apply'),
  levelsCompared: count,
  drifting: count,
  leftOut: leftOut.optional(),
  applied: count,
  skipped: count,
  conflicts: count,
  failed: count,
  guards: z.looseObject({ applyable: z.boolean(), forced: z.boolean(), checks: z.array(guardCheck) }).optional(),
  retries: count,
  throttledWaits: count,
  planFile: z.string().optional(),
  totalAbsDrift: count,
  erpCorrections: count,
  remaining: count,
  calls: count,
  warnings: z.array(z.string()),
  durationMs: z.number().min(0),
  error: z.string().optional(),
});

export const syncLockedOutput = document(
  'invrecon sync (lock held)',
  'Another process (a sync, an apply, a watch write) held the lock for all of --lock-wait: nothing ran (exit 1).',
  {
    outcome: z.literal('locked'),
    exitCode: z.literal(1),
    lock: z.looseObject({
      owner: z.string(),
      acquiredAt: iso,
      heartbeatAt: iso,
      command: nullable(z.enum(['sync', 'apply', 'watch']))
        .optional()
        .describe('the command holding the lock; null for a lock taken by an older version'),
    }),
    waitedMs: z.number().min(0).describe('how long the sync waited for the lock before giving up (0 with --lock-wait 0)'),
  },
);

export const syncInterruptedOutput = document(
  'invrecon sync (stopped by a signal)',
  'SIGINT or SIGTERM stopped the sync: while it waited for the lock (nothing ran, runId null) or during its run (closed as interrupted, the lock released).',
  {
    outcome: z.literal('interrupted'),
    exitCode: z.union([z.literal(130), z.literal(143)]).describe('128 + the signal number: 130 for SIGINT, 143 for SIGTERM'),
    signal: z.enum(['SIGINT', 'SIGTERM']),
    runId: nullable(id).describe('the run closed as interrupted; null when the sync was still waiting for the lock'),
  },
);

export const statusOutput = document('invrecon status', 'The last syncs, drift now, time since the last good sync.', {
  generatedAt: iso,
  lock: nullable(
    z.looseObject({
      owner: z.string(),
      acquiredAt: iso,
      heartbeatAt: iso,
      stale: nullable(z.string()),
      command: nullable(z.enum(['sync', 'apply', 'watch']))
        .optional()
        .describe('the command holding the lock; null for a lock taken by an older version'),
    }),
  ),
  lastSuccess: nullable(z.looseObject({ runId: id, finishedAt: iso, dryRun: z.boolean(), ageMs: z.number() })),
  lastCommitted: nullable(z.looseObject({ runId: id, finishedAt: iso, ageMs: z.number() })),
  syncLatencyMs: nullable(z.number()),
  driftNow: nullable(
    z.looseObject({
      levelsCompared: count,
      shopifyChanges: count,
      erpCorrections: count,
      totalAbsDrift: count,
      leftOut: leftOut.optional(),
      byLocation: z.array(z.looseObject({ locationName: z.string(), leftOut: count.optional().describe('levels left out at this location') })).optional(),
    }),
  ),
  driftNote: nullable(z.string()),
  window: z.looseObject({
    runs: count,
    outcomes: z.record(z.string(), count),
    calls: count,
    retries: count,
    retrySuccessRate: nullable(z.number()),
    throttledWaits: count,
  }),
  runs: z.array(
    z.looseObject({
      id,
      startedAt: iso,
      finishedAt: nullable(iso),
      outcome,
      dryRun: nullable(z.boolean()),
      leftOut: nullable(count).optional().describe("levels the run's plan left out; null when it did not plan or recorded none"),
    }),
  ),
});

export const doctorOutput = document('invrecon doctor', 'Each check of a set-up; ok is false when one failed (exit 1).', {
  ok: z.boolean(),
  configPath: z.string(),
  endpoint: nullable(z.string()),
  checks: z.array(
    z.looseObject({
      id: z.enum(['config', 'erp-source', 'warehouses', 'token', 'endpoint', 'api-version', 'scopes', 'location', 'unfed-locations']),
      status: z.enum(['ok', 'warn', 'fail', 'skip']),
      message: z.string(),
      fix: z.string().optional(),
      details: z.array(z.string()).optional(),
    }),
  ),
  failed: count,
  warnings: count,
});

/** Every published output, by the file name under schema/output/. */
export const outputSchemas = {
  error: errorOutput,
  'pull-erp': pullErpOutput,
  'pull-shopify': pullShopifyOutput,
  snapshots: snapshotsOutput,
  prune: pruneOutput,
  diff: diffOutput,
  plan: planOutput,
  apply: applyOutput,
  log: logOutput,
  sync: syncOutput,
  'sync-locked': syncLockedOutput,
  'sync-interrupted': syncInterruptedOutput,
  status: statusOutput,
  doctor: doctorOutput,
} as const;

export type OutputName = keyof typeof outputSchemas;

/** The JSON Schema of one output, as published. */
export function outputJsonSchema(name: OutputName): Record<string, unknown> {
  return { ...z.toJSONSchema(outputSchemas[name], { io: 'output', unrepresentable: 'any' }), $id: `invrecon/output/${name}.schema.json` };
}
