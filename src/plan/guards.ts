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
    message: inputs.erpRows > 0 ? `ERP export has ${inputs.erpRows} rows` : 'the ERP export is empty: refusing to plan from it',
  });
  checks.push({
    name: 'maxChanges',
    ok: inputs.changes <= guards.maxChanges,
    limit: guards.maxChanges,
    value: inputs.changes,
    message: `${inputs.changes} changes (guards.maxChanges ${guards.maxChanges})`,
  });
  const zeroedShare = inputs.levelsCompared === 0 ? 0 : inputs.zeroed / inputs.levelsCompared;
  checks.push({
    name: 'maxZeroedShare',
    ok: zeroedShare <= guards.maxZeroedShare,
    limit: guards.maxZeroedShare,
    value: round(zeroedShare),
    message: `${inputs.zeroed} of ${inputs.levelsCompared} levels set to 0 (${percent(zeroedShare)}; guards.maxZeroedShare ${percent(guards.maxZeroedShare)})`,
  });
  const drop = inputs.previousErpRows ? Math.max(0, (inputs.previousErpRows - inputs.erpRows) / inputs.previousErpRows) : 0;
  checks.push({
    name: 'maxRowDrop',
    ok: drop <= guards.maxRowDrop,
    limit: guards.maxRowDrop,
    value: round(drop),
    message:
      inputs.previousErpRows === undefined
        ? 'no earlier ERP snapshot to compare the row count with'
        : `ERP rows ${inputs.previousErpRows} → ${inputs.erpRows} (drop ${percent(drop)}; guards.maxRowDrop ${percent(guards.maxRowDrop)})`,
  });
  return checks;
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}
