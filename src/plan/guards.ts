import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { GuardCheck, Plan } from './model.js';

/** An earlier ERP export the new one is judged against. */
export interface GuardReference {
  /** previous: the snapshot pulled just before; last-applied / last-passed: the known-good baseline. */
  role: 'previous' | 'last-applied' | 'last-passed';
  snapshotId: number;
  /** Its rows, less those of warehouses mapped to inactive locations. */
  rows: number;
  /** Mapped warehouses (by the current config) that had rows in that export and have none in this one. */
  vanishedWarehouses: string[];
}

export interface LocationGuardInput {
  locationName: string;
  /** Changes that take a level with stock down to 0. */
  zeroed: number;
  compared: number;
  /** Compared levels with stock in Shopify now, and once the plan is applied. */
  stockedBefore: number;
  stockedAfter: number;
}

export interface GuardInputs {
  changes: number;
  /** Changes that take a level with stock down to 0. */
  zeroed: number;
  /** Levels both sides have, the base of the zeroed share. */
  levelsCompared: number;
  /** Rows of this export, less those of warehouses mapped to inactive locations. */
  erpRows: number;
  /** Warehouses mapped to inactive locations: left out of maxRowDrop and warehousesPresent (nothing is written for them). */
  inactiveWarehouses?: string[];
  /** The previous snapshot and the known-good baseline (one entry when they are the same snapshot). */
  references: GuardReference[];
  /** Zeroed and compared levels per Shopify location: one lost warehouse must not empty one store. */
  byLocation?: LocationGuardInput[];
}

/** A location's zeroed share is judged on its own only from this many compared levels; smaller ones are judged by emptiedLocations. */
export const MIN_LEVELS_PER_LOCATION_CHECK = 20;

const ROLE_LABEL: Record<GuardReference['role'], string> = {
  previous: 'the previous ERP snapshot',
  'last-applied': 'the ERP snapshot of the last applied plan',
  'last-passed': 'the ERP snapshot of the last plan that passed the guards',
};

function referenceLabel(reference: GuardReference): string {
  return `${ROLE_LABEL[reference.role]} (#${reference.snapshotId})`;
}

/**
 * The checks that keep a bad export from zeroing a store. Pure: the plan records every check with its
 * limit and value, and is applyable only when all pass (or it was forced).
 */
export function evaluateGuards(guards: Config['guards'], inputs: GuardInputs): GuardCheck[] {
  const checks: GuardCheck[] = [];
  checks.push({
    name: 'emptyErp',
    ok: inputs.erpRows > 0,
    limit: 1,
    value: inputs.erpRows,
    message:
      inputs.erpRows > 0
        ? `ERP export has ${inputs.erpRows.toLocaleString('en-US')} row${inputs.erpRows === 1 ? '' : 's'}`
        : 'the ERP export is empty: refusing to plan from it',
  });
  checks.push({
    name: 'maxChanges',
    ok: inputs.changes <= guards.maxChanges,
    limit: guards.maxChanges,
    value: inputs.changes,
    message: `${inputs.changes.toLocaleString('en-US')} change${inputs.changes === 1 ? '' : 's'} (guards.maxChanges ${guards.maxChanges})`,
  });
  const zeroedShare = inputs.levelsCompared === 0 ? 0 : inputs.zeroed / inputs.levelsCompared;
  // The worst location counts too: a missing warehouse can empty one store while the shop-wide share looks small.
  const worst = (inputs.byLocation ?? [])
    .filter((l) => l.compared >= MIN_LEVELS_PER_LOCATION_CHECK)
    .map((l) => ({ ...l, share: l.zeroed / l.compared }))
    .sort((a, b) => b.share - a.share)[0];
  const worstShare = worst && worst.share > zeroedShare ? worst.share : zeroedShare;
  checks.push({
    name: 'maxZeroedShare',
    ok: worstShare <= guards.maxZeroedShare,
    limit: guards.maxZeroedShare,
    value: round(worstShare),
    message:
      `${inputs.zeroed} of ${inputs.levelsCompared} levels set to 0 (${percent(zeroedShare)})` +
      (worst && worst.share > zeroedShare ? `; at ${worst.locationName} ${worst.zeroed} of ${worst.compared} (${percent(worst.share)})` : '') +
      `; guards.maxZeroedShare ${percent(guards.maxZeroedShare)}`,
  });
  // Whatever its size, a location the plan would leave with no stock at all is refused.
  const emptied = (inputs.byLocation ?? []).filter((l) => l.zeroed > 0 && l.stockedBefore > 0 && l.stockedAfter === 0);
  checks.push({
    name: 'emptiedLocations',
    ok: emptied.length === 0,
    limit: 0,
    value: emptied.length,
    message: emptied.length
      ? `the plan sets every level with stock to 0 at ${emptied.map((l) => `${l.locationName} (${l.zeroed} of ${l.stockedBefore})`).join(', ')}`
      : 'every location keeps some stock',
  });
  const drops = inputs.references
    .filter((r) => r.rows > 0)
    .map((r) => ({ ...r, drop: Math.max(0, (r.rows - inputs.erpRows) / r.rows) }))
    .sort((a, b) => b.drop - a.drop);
  const largest = drops[0];
  const inactive = inputs.inactiveWarehouses ?? [];
  const notCounting = inactive.length
    ? `; not counting ${inactive.map((w) => JSON.stringify(w)).join(', ')}, mapped to ${inactive.length > 1 ? 'inactive locations' : 'an inactive location'}`
    : '';
  checks.push({
    name: 'maxRowDrop',
    ok: (largest?.drop ?? 0) <= guards.maxRowDrop,
    limit: guards.maxRowDrop,
    value: round(largest?.drop ?? 0),
    message: largest
      ? `ERP rows ${largest.rows} in ${referenceLabel(largest)} → ${inputs.erpRows} (drop ${percent(largest.drop)}; guards.maxRowDrop ${percent(guards.maxRowDrop)}${notCounting})`
      : 'no earlier ERP snapshot to compare the row count with',
  });
  const vanished = [...new Set(inputs.references.flatMap((r) => r.vanishedWarehouses))].sort();
  const where = inputs.references.filter((r) => r.vanishedWarehouses.length > 0).map(referenceLabel);
  checks.push({
    name: 'warehousesPresent',
    ok: vanished.length === 0,
    limit: 0,
    value: vanished.length,
    message: vanished.length
      ? `mapped warehouse${vanished.length > 1 ? 's' : ''} ${vanished.map((w) => JSON.stringify(w)).join(', ')} had rows in ${where.join(' and ')} and ${vanished.length > 1 ? 'have' : 'has'} none now`
      : inputs.references.length
        ? `every mapped warehouse of ${inputs.references.map(referenceLabel).join(' and ')} is still there${notCounting}`
        : 'no earlier ERP snapshot to compare the warehouses with',
  });
  return checks;
}

/** One line per failed check: its name, value and limit, and what it found. */
export function failedGuardLines(checks: readonly GuardCheck[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => `${c.name} (value ${c.value}, limit ${c.limit}): ${c.message}`);
}

/** The error a command ends with when a plan's guards refuse it (exit 1); undefined when it is applyable. */
export function guardRefusal(plan: Pick<Plan, 'guards'>, what: string, override: string): InputError | undefined {
  if (plan.guards.applyable) return undefined;
  return new InputError(`${what}: a guard refused the plan (check the ERP export; ${override} overrides it once)`, failedGuardLines(plan.guards.checks));
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}
