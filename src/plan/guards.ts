import type { Config } from '../config/schema.js';
import type { GuardCheck } from './model.js';

export interface GuardInputs {
  changes: number;
  /** Changes that take a level with stock down to 0. */
  zeroed: number;
  /** Levels both sides have, the base of the zeroed share. */
  levelsCompared: number;
  erpRows: number;
  /** Row count of the ERP snapshot before this one, when there is one. */
  previousErpRows: number | undefined;
  /** Row count of the ERP snapshot the last applied plan came from: a truncated export pulled twice is still caught. */
  lastAppliedErpRows?: number;
  /** Zeroed and compared levels per Shopify location: one lost warehouse must not empty one store. */
  byLocation?: { locationName: string; zeroed: number; compared: number }[];
  /** Mapped warehouses the previous ERP snapshot had rows for and this one has none. */
  vanishedWarehouses?: string[];
}

/** A location's zeroed share is judged on its own only from this many compared levels (smaller ones are noise). */
export const MIN_LEVELS_PER_LOCATION_CHECK = 20;

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
    message: inputs.erpRows > 0 ? `ERP export has ${inputs.erpRows.toLocaleString('en-US')} row${inputs.erpRows === 1 ? '' : 's'}` : 'the ERP export is empty: refusing to plan from it',
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
  const references = [
    { label: 'the previous ERP snapshot', rows: inputs.previousErpRows },
    { label: 'the ERP snapshot of the last applied plan', rows: inputs.lastAppliedErpRows },
  ].filter((r): r is { label: string; rows: number } => r.rows !== undefined && r.rows > 0);
  const drops = references.map((r) => ({ ...r, drop: Math.max(0, (r.rows - inputs.erpRows) / r.rows) })).sort((a, b) => b.drop - a.drop);
  const largest = drops[0];
  checks.push({
    name: 'maxRowDrop',
    ok: (largest?.drop ?? 0) <= guards.maxRowDrop,
    limit: guards.maxRowDrop,
    value: round(largest?.drop ?? 0),
    message: largest
      ? `ERP rows ${largest.rows} in ${largest.label} → ${inputs.erpRows} (drop ${percent(largest.drop)}; guards.maxRowDrop ${percent(guards.maxRowDrop)})`
      : 'no earlier ERP snapshot to compare the row count with',
  });
  const vanished = inputs.vanishedWarehouses ?? [];
  checks.push({
    name: 'warehousesPresent',
    ok: vanished.length === 0,
    limit: 0,
    value: vanished.length,
    message: vanished.length
      ? `mapped warehouse${vanished.length > 1 ? 's' : ''} ${vanished.map((w) => JSON.stringify(w)).join(', ')} had rows in the previous ERP export and ${vanished.length > 1 ? 'have' : 'has'} none now`
      : 'every mapped warehouse of the previous ERP export is still there',
  });
  return checks;
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}
