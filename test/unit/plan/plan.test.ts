import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planBatches, idempotencyKey } from '../../../src/plan/apply.js';
import { evaluateGuards, failedGuardLines, guardRefusal } from '../../../src/plan/guards.js';
import { canonicalJson, planDigest } from '../../../src/plan/model.js';
import { spreadsheetSafe, renderCsv } from '../../../src/views/csv.js';

const guards = { maxChanges: 10, maxZeroedShare: 0.2, maxRowDrop: 0.5 };

type Inputs = Parameters<typeof evaluateGuards>[1];
const previous = (rows: number, vanishedWarehouses: string[] = []) => ({ role: 'previous' as const, snapshotId: 1, rows, vanishedWarehouses });
const lastApplied = (rows: number, vanishedWarehouses: string[] = []) => ({ role: 'last-applied' as const, snapshotId: 2, rows, vanishedWarehouses });
const failed = (inputs: Inputs) =>
  evaluateGuards(guards, inputs)
    .filter((c) => !c.ok)
    .map((c) => c.name);

describe('guards', () => {
  it('pass a normal plan and say why', () => {
    const checks = evaluateGuards(guards, { changes: 3, zeroed: 1, levelsCompared: 10, erpRows: 100, references: [previous(90)] });
    assert.ok(checks.every((c) => c.ok));
    assert.equal(checks.find((c) => c.name === 'maxZeroedShare')?.value, 0.1);
  });

  it('fail an empty export, too many changes, too many zeros and a large row drop', () => {
    assert.deepEqual(failed({ changes: 0, zeroed: 0, levelsCompared: 10, erpRows: 0, references: [previous(100)] }), ['emptyErp', 'maxRowDrop']);
    assert.deepEqual(failed({ changes: 11, zeroed: 0, levelsCompared: 100, erpRows: 100, references: [] }), ['maxChanges']);
    assert.deepEqual(failed({ changes: 3, zeroed: 3, levelsCompared: 10, erpRows: 100, references: [previous(100)] }), ['maxZeroedShare']);
    assert.deepEqual(failed({ changes: 1, zeroed: 0, levelsCompared: 10, erpRows: 49, references: [previous(100)] }), ['maxRowDrop']);
  });

  it('judge each location on its own, so one lost warehouse cannot empty one store', () => {
    const location = (locationName: string, zeroed: number, compared: number, stockedBefore = compared) => ({
      locationName,
      zeroed,
      compared,
      stockedBefore,
      stockedAfter: stockedBefore - zeroed,
    });
    const byLocation = [location('Main', 0, 900), location('Store 10', 50, 100), location('Kiosk', 2, 5)];
    const check = evaluateGuards(guards, { changes: 9, zeroed: 52, levelsCompared: 1005, erpRows: 900, references: [previous(1000)], byLocation }).find(
      (c) => c.name === 'maxZeroedShare',
    )!;
    assert.equal(check.ok, false);
    assert.match(check.message, /at Store 10 50 of 100 \(50%\)/);
    // Below 20 compared levels a location's share is not judged (the Kiosk loses 2 of 5)...
    assert.deepEqual(
      failed({ changes: 2, zeroed: 2, levelsCompared: 905, erpRows: 900, references: [previous(900)], byLocation: [byLocation[0]!, byLocation[2]!] }),
      [],
    );
    // ...but a location of any size that would be left with no stock at all is refused.
    const emptied = evaluateGuards(guards, {
      changes: 3,
      zeroed: 3,
      levelsCompared: 903,
      erpRows: 900,
      references: [previous(900)],
      byLocation: [byLocation[0]!, location('Pop-up', 3, 3)],
    });
    assert.deepEqual(
      emptied.filter((c) => !c.ok).map((c) => c.name),
      ['emptiedLocations'],
    );
    assert.match(emptied.find((c) => c.name === 'emptiedLocations')!.message, /every level with stock to 0 at Pop-up \(3 of 3\)/);
    // A location with nothing in stock before is not "emptied" by the plan.
    assert.deepEqual(failed({ changes: 0, zeroed: 0, levelsCompared: 3, erpRows: 10, references: [], byLocation: [location('Closed', 0, 3, 0)] }), []);
  });

  it('compare with the known-good baseline as well as the previous export, naming which one', () => {
    // The same truncated export pulled twice: the previous snapshot agrees, the last applied one does not.
    const checks = evaluateGuards(guards, { changes: 1, zeroed: 0, levelsCompared: 10, erpRows: 30, references: [lastApplied(100), previous(30)] });
    assert.deepEqual(
      checks.filter((c) => !c.ok).map((c) => c.name),
      ['maxRowDrop'],
    );
    assert.match(checks.find((c) => c.name === 'maxRowDrop')!.message, /ERP rows 100 in the ERP snapshot of the last applied plan \(#2\) → 30 \(drop 70%/);
    const vanished = evaluateGuards(guards, {
      changes: 1,
      zeroed: 0,
      levelsCompared: 10,
      erpRows: 90,
      references: [lastApplied(100, ['WH-10']), previous(90)],
    });
    assert.deepEqual(
      vanished.filter((c) => !c.ok).map((c) => c.name),
      ['warehousesPresent'],
    );
    assert.match(
      vanished.find((c) => c.name === 'warehousesPresent')!.message,
      /"WH-10" had rows in the ERP snapshot of the last applied plan \(#2\) and has none now/,
    );
  });

  it('treat the limits as inclusive', () => {
    const checks = evaluateGuards(guards, { changes: 10, zeroed: 2, levelsCompared: 10, erpRows: 50, references: [previous(100)] });
    assert.ok(
      checks.every((c) => c.ok),
      JSON.stringify(checks),
    );
  });

  it('name each failed guard with its value and limit, and refuse the plan with them', () => {
    const checks = evaluateGuards(guards, { changes: 11, zeroed: 0, levelsCompared: 100, erpRows: 100, references: [] });
    assert.deepEqual(failedGuardLines(checks), ['maxChanges (value 11, limit 10): 11 changes (guards.maxChanges 10)']);
    const refusal = guardRefusal({ guards: { applyable: false, forced: false, checks } }, 'plan', '--force');
    assert.ok(refusal);
    assert.match(refusal.message, /^plan: a guard refused the plan/);
    assert.equal(guardRefusal({ guards: { applyable: true, forced: true, checks } }, 'plan', '--force'), undefined);
  });
});

describe('plan file', () => {
  it('serializes with sorted keys, so the digest does not depend on key order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } }), '{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}');
    const one = { formatVersion: 1, changes: [{ sku: 'A', to: 1 }] } as never;
    const two = { changes: [{ to: 1, sku: 'A' }], formatVersion: 1 } as never;
    assert.equal(planDigest(one), planDigest(two));
    assert.notEqual(planDigest(one), planDigest({ formatVersion: 1, changes: [{ sku: 'A', to: 2 }] } as never));
  });

  it('splits changes into batches of at most 250 consecutive changes of one mode, in plan order (a plan file lists sets first)', () => {
    const changes = [
      ...Array.from({ length: 300 }, () => ({ mode: 'set' as const })),
      ...Array.from({ length: 10 }, () => ({ mode: 'adjust' as const })),
      { mode: 'set' as const },
    ];
    const batches = planBatches({ changes } as never);
    assert.deepEqual(
      batches.map((b) => [b.batchNo, b.mode, b.changes.length]),
      [
        [1, 'set', 250],
        [2, 'set', 50],
        [3, 'adjust', 10],
        [4, 'set', 1],
      ],
    );
    assert.equal(batches[1]!.changes.at(-1), 299);
    assert.equal(batches[3]!.changes[0], 310);
  });

  it('derives idempotency keys from the digest, the batch and the attempt', () => {
    const plan = { digest: 'ab'.repeat(32) };
    assert.equal(idempotencyKey(plan, 2, 0), `invrecon-${'ab'.repeat(16)}-b2-a0`);
    assert.notEqual(idempotencyKey(plan, 2, 0), idempotencyKey(plan, 2, 1));
  });
});

describe('CSV output', () => {
  it('neutralizes cells a spreadsheet would run as formulas', () => {
    assert.equal(spreadsheetSafe('=HYPERLINK("x")'), `'=HYPERLINK("x")`);
    assert.equal(spreadsheetSafe('+1'), `'+1`);
    assert.equal(spreadsheetSafe('@SUM(A1)'), `'@SUM(A1)`);
    assert.equal(spreadsheetSafe('TEE-RED'), 'TEE-RED');
    assert.equal(spreadsheetSafe(-4), -4);
    assert.equal(renderCsv(['sku', 'delta'], [['=cmd', -4]]), `sku,delta\n'=cmd,-4\n`);
  });
});
