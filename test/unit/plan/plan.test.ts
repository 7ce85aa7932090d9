import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planBatches, idempotencyKey } from '../../../src/plan/apply.js';
import { evaluateGuards } from '../../../src/plan/guards.js';
import { canonicalJson, planDigest } from '../../../src/plan/model.js';
import { spreadsheetSafe, renderCsv } from '../../../src/views/csv.js';

const guards = { maxChanges: 10, maxZeroedShare: 0.2, maxRowDrop: 0.5 };

describe('guards', () => {
  it('pass a normal plan and say why', () => {
    const checks = evaluateGuards(guards, { changes: 3, zeroed: 1, levelsCompared: 10, erpRows: 100, previousErpRows: 90 });
    assert.ok(checks.every((c) => c.ok));
    assert.equal(checks.find((c) => c.name === 'maxZeroedShare')?.value, 0.1);
  });

  it('fail an empty export, too many changes, too many zeros and a large row drop', () => {
    const failed = (inputs: Parameters<typeof evaluateGuards>[1]) =>
      evaluateGuards(guards, inputs)
        .filter((c) => !c.ok)
        .map((c) => c.name);
    assert.deepEqual(failed({ changes: 0, zeroed: 0, levelsCompared: 10, erpRows: 0, previousErpRows: 100 }), ['emptyErp', 'maxRowDrop']);
    assert.deepEqual(failed({ changes: 11, zeroed: 0, levelsCompared: 100, erpRows: 100, previousErpRows: undefined }), ['maxChanges']);
    assert.deepEqual(failed({ changes: 3, zeroed: 3, levelsCompared: 10, erpRows: 100, previousErpRows: 100 }), ['maxZeroedShare']);
    assert.deepEqual(failed({ changes: 1, zeroed: 0, levelsCompared: 10, erpRows: 49, previousErpRows: 100 }), ['maxRowDrop']);
  });

  it('judge each location on its own, so one lost warehouse cannot empty one store', () => {
    const byLocation = [
      { locationName: 'Main', zeroed: 0, compared: 900 },
      { locationName: 'Store 10', zeroed: 100, compared: 100 },
      { locationName: 'Kiosk', zeroed: 5, compared: 5 },
    ];
    const check = evaluateGuards(guards, { changes: 9, zeroed: 105, levelsCompared: 1005, erpRows: 900, previousErpRows: 1000, byLocation }).find((c) => c.name === 'maxZeroedShare')!;
    assert.equal(check.ok, false);
    assert.match(check.message, /at Store 10 100 of 100 \(100%\)/);
    // Below 20 compared levels a location is too small to judge alone (the Kiosk).
    const small = evaluateGuards(guards, { changes: 5, zeroed: 5, levelsCompared: 905, erpRows: 900, previousErpRows: 900, byLocation: [byLocation[0]!, byLocation[2]!] });
    assert.ok(small.every((c) => c.ok));
  });

  it('compare the row count with the last applied export too, and fail when a mapped warehouse vanished', () => {
    const failed = (inputs: Parameters<typeof evaluateGuards>[1]) =>
      evaluateGuards(guards, inputs)
        .filter((c) => !c.ok)
        .map((c) => c.name);
    // The same truncated export pulled twice: the previous snapshot agrees, the last applied one does not.
    assert.deepEqual(failed({ changes: 1, zeroed: 0, levelsCompared: 10, erpRows: 30, previousErpRows: 30, lastAppliedErpRows: 100 }), ['maxRowDrop']);
    assert.deepEqual(failed({ changes: 1, zeroed: 0, levelsCompared: 10, erpRows: 90, previousErpRows: 100, vanishedWarehouses: ['WH-10'] }), ['warehousesPresent']);
  });

  it('treat the limits as inclusive', () => {
    const checks = evaluateGuards(guards, { changes: 10, zeroed: 2, levelsCompared: 10, erpRows: 50, previousErpRows: 100 });
    assert.ok(checks.every((c) => c.ok), JSON.stringify(checks));
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

  it('splits changes into batches of at most 250, sets before adjusts, in plan order', () => {
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
        [2, 'set', 51],
        [3, 'adjust', 10],
      ],
    );
    assert.equal(batches[1]!.changes.at(-1), 310);
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
