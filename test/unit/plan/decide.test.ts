import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, describeDecision, isReplay, rowsToReread, type Answer, type DecideInput, type LevelFacts } from '../../../src/plan/apply/decide.js';
import type { BatchRow } from '../../../src/store/applies.js';
import type { InventoryChangeNode, UserError } from '../../../src/sources/shopify/documents.js';

// Three planned levels: 10 → 4, 20 → 25, 5 → 0.
const LEVELS: LevelFacts[] = [
  { inventoryItemId: 'gid://shopify/InventoryItem/1', locationId: 'gid://shopify/Location/1', from: 10, to: 4 },
  { inventoryItemId: 'gid://shopify/InventoryItem/2', locationId: 'gid://shopify/Location/1', from: 20, to: 25 },
  { inventoryItemId: 'gid://shopify/InventoryItem/3', locationId: 'gid://shopify/Location/1', from: 5, to: 0 },
];
const setRows = (): BatchRow[] => LEVELS.map((l, change) => ({ change, changeFromQuantity: l.from, value: l.to, misses: 0 }));

const answered = (userErrors: UserError[] = [], changes: InventoryChangeNode[] = [], uncertain = false): Answer => ({
  kind: 'answered',
  userErrors,
  changes,
  uncertain,
});
/** Shopify's answer to another run's call under the same key (send.ts marks it uncertain too). */
const replayedAnswer = (userErrors: UserError[] = [], changes: InventoryChangeNode[] = []): Answer => ({
  kind: 'answered',
  userErrors,
  changes,
  uncertain: true,
  replayed: true,
});
const stale = (row: number): UserError => ({
  code: 'CHANGE_FROM_QUANTITY_STALE',
  field: ['input', 'quantities', String(row), 'changeFromQuantity'],
  message: 'stale',
});
const changed = (change: number, after: number, delta: number): InventoryChangeNode => ({
  name: 'available',
  delta,
  quantityAfterChange: after,
  item: { id: LEVELS[change]!.inventoryItemId },
  location: { id: LEVELS[change]!.locationId },
});

function input(answer: Answer, extra: Partial<DecideInput> = {}): DecideInput {
  return { mode: 'set', rows: setRows(), level: (change) => LEVELS[change]!, answer, maxMisses: 5, maxSize: 250, ...extra };
}

describe('decide: a call Shopify accepted', () => {
  it('applies every row, from the changes when listed, and doubles the call size', () => {
    const d = decide(input(answered([], [changed(0, 4, -6)])));
    assert.deepEqual(d.outcome.applied, [
      { change: 0, before: 10, after: 4 },
      { change: 1, before: 20, after: 25 },
      { change: 2, before: 5, after: 0 },
    ]);
    assert.deepEqual([d.key, d.size, d.verdict, d.next.length], ['next', 6, 'applied', 0]);
  });

  it('never grows a call past the maximum', () => {
    assert.equal(decide(input(answered(), { maxSize: 4 })).size, 4);
  });

  it('an accepted call after a lost answer is still applied: the answer is definitive', () => {
    const d = decide(input(answered([], [], true), { rows: setRows().map((r) => ({ ...r, unknown: true })) }));
    assert.equal(d.outcome.applied.length, 3);
    assert.equal(d.verdict, 'applied');
  });
});

describe('decide: CHANGE_FROM_QUANTITY_STALE', () => {
  it('asks to re-read only the stale rows', () => {
    assert.deepEqual(
      rowsToReread({ rows: setRows(), level: (c) => LEVELS[c]!, answer: answered([stale(1)]) }).map((r) => r.change),
      [1],
    );
    assert.deepEqual(rowsToReread({ rows: setRows(), level: (c) => LEVELS[c]!, answer: answered() }), []);
  });

  it('carries what sold since the plan into the target, sends the good rows again, and halves the call', () => {
    // Level 1 sold 3 since the plan: 20 → 17, so the target 25 becomes 22.
    const d = decide(input(answered([stale(1)]), { current: new Map([[1, 17]]) }));
    assert.deepEqual(
      d.next.map((r) => [r.change, r.changeFromQuantity, r.value, r.misses]),
      [
        [0, 10, 4, 0],
        [1, 17, 22, 1],
        [2, 5, 0, 0],
      ],
    );
    assert.deepEqual(d.outcome.carried, [{ change: 1, sentFrom: 17, sentTo: 22, why: 'Shopify showed 17 instead of 20: the -3 since the plan is kept' }]);
    assert.deepEqual([d.key, d.size, d.verdict], ['next', 1, 'carried']);
    assert.match(describeDecision(d), /1 carried forward, 2 sent again unchanged/);
  });

  it('skips a row whose level already holds the carried target', () => {
    // 5 → 0 planned; it is at 0 now: the target carried is max(0, 0 + (0 − 5)) = 0.
    const d = decide(input(answered([stale(2)]), { current: new Map([[2, 0]]) }));
    assert.deepEqual(d.outcome.skipped, [{ change: 2, current: 0 }]);
    assert.equal(d.verdict, 'stale');
  });

  it('never carries below zero', () => {
    const d = decide(input(answered([stale(0)]), { current: new Map([[0, 3]]) }));
    assert.deepEqual(d.outcome.carried?.[0], { change: 0, sentFrom: 3, sentTo: 0, why: 'Shopify showed 3 instead of 10: the -7 since the plan is kept' });
  });

  it('gives a row up as a conflict after maxMisses misses', () => {
    const rows = setRows().map((r) => ({ ...r, misses: 4 }));
    const d = decide(input(answered([stale(1)]), { rows, current: new Map([[1, 17]]) }));
    assert.equal(d.outcome.conflicts.length, 1);
    assert.match(d.outcome.conflicts[0]!.message, /kept changing \(5 compare-and-swap misses\)/);
  });

  it('never carries forward a level another writer moved', () => {
    const d = decide(input(answered([stale(1)]), { current: new Map([[1, 25]]), movedBy: (c) => (c === 1 ? 'another invrecon plan (abc)' : undefined) }));
    assert.deepEqual(d.outcome.conflicts, [{ change: 1, current: 25, message: 'another invrecon plan (abc) changed this level since the snapshot' }]);
    assert.equal(d.next.length, 2);
  });

  it('fails a row whose level is gone', () => {
    const d = decide(input(answered([stale(1)]), { current: new Map([[1, null]]) }));
    assert.equal(d.outcome.failed[0]!.code, 'ITEM_NOT_STOCKED_AT_LOCATION');
  });

  it('an adjust row is carried as a new delta from the level now', () => {
    const rows = LEVELS.map((l, change) => ({ change, changeFromQuantity: l.from, value: l.to - l.from, misses: 0 }));
    const d = decide(input(answered([stale(1)]), { mode: 'adjust', rows, current: new Map([[1, 17]]) }));
    assert.deepEqual(
      d.next.find((r) => r.change === 1),
      { change: 1, changeFromQuantity: 17, value: 5, misses: 1 },
    );
  });
});

describe('decide: unknown outcomes (an answer was lost)', () => {
  it('a stale row of an uncertain call at its target counts as applied (confirmed), never carried', () => {
    const d = decide(
      input(answered([stale(0), stale(1)], [], true), {
        current: new Map([
          [0, 4],
          [1, 17],
        ]),
      }),
    );
    assert.deepEqual(d.outcome.applied, [{ change: 0, before: 10, after: 4, confirmed: true }]);
    assert.equal(d.outcome.unresolved?.length, 1);
    assert.equal(d.outcome.unresolved[0]!.change, 1);
    assert.match(d.outcome.unresolved[0]!.message, /answer was lost.*now 17, not 25/);
    assert.deepEqual(d.outcome.carried, []);
    assert.equal(d.verdict, 'unresolved');
    // The row that was not stale goes again, still marked unknown (the lost call may have applied it).
    assert.deepEqual(d.next, [{ change: 2, changeFromQuantity: 5, value: 0, misses: 0, unknown: true }]);
  });

  it('a row marked unknown by an earlier call is never carried either', () => {
    const rows = setRows().map((r) => (r.change === 1 ? { ...r, unknown: true as const } : r));
    const d = decide(input(answered([stale(1)]), { rows, current: new Map([[1, 17]]) }));
    assert.equal(d.outcome.unresolved?.length, 1);
    assert.equal(d.next.length, 2);
  });

  it('a lost answer sends the same call again under the same key, its rows unknown', () => {
    const d = decide(input({ kind: 'lost' }));
    assert.deepEqual([d.key, d.verdict, d.size], ['same', 'unknown', 3]);
    assert.ok(d.next.every((r) => r.unknown));
    assert.equal(d.outcome.applied.length, 0);
  });

  it('rows listed in inventoryAdjustmentGroup.changes are applied whatever else the answer says', () => {
    const d = decide(input(answered([stale(1)], [changed(0, 4, -6)]), { current: new Map([[1, 17]]) }));
    assert.deepEqual(d.outcome.applied, [{ change: 0, before: 10, after: 4 }]);
    assert.deepEqual(
      d.next.map((r) => r.change),
      [1, 2],
    );
    assert.equal(d.verdict, 'carried');
  });
});

describe('decide: a replayed answer (another run sent this call under the same key)', () => {
  it('isReplay: a group created over a second before the claim, in Shopify time; unknown times are no replay', () => {
    const claim = '2026-12-01T10:00:05Z';
    assert.equal(isReplay('2026-12-01T10:00:03.999Z', claim), true);
    assert.equal(isReplay('2026-12-01T05:00:05-05:00', '2026-12-01T10:00:07Z'), true, 'offsets are compared as instants');
    // Whole-second stamps and a little skew between Shopify's servers: the claim's own second and the one before are this run's.
    assert.equal(isReplay('2026-12-01T10:00:04Z', claim), false);
    assert.equal(isReplay('2026-12-01T10:00:06Z', claim), false);
    assert.equal(isReplay(undefined, claim), false);
    assert.equal(isReplay('2026-12-01T10:00:00Z', undefined), false);
    assert.equal(isReplay('not a time', claim), false);
  });

  it("rows it lists were applied by that run: marked replayed, never counted as this call's", () => {
    const d = decide(input(replayedAnswer([], [changed(0, 4, -6), changed(1, 25, 5), changed(2, 0, -5)])));
    assert.deepEqual(
      d.outcome.applied.map((a) => [a.change, a.replayed]),
      [
        [0, true],
        [1, true],
        [2, true],
      ],
    );
    assert.equal(describeDecision(d), '3 applied earlier under this key (a replayed answer)');
  });

  it('a stale row of a replayed answer is never carried forward: that run may have applied it since', () => {
    const d = decide(input(replayedAnswer([stale(1)]), { current: new Map([[1, 25]]) }));
    assert.deepEqual(d.outcome.applied, [{ change: 1, before: 20, after: 25, confirmed: true, replayed: true }]);
    assert.deepEqual(d.outcome.carried, []);
    assert.ok(d.next.every((r) => r.unknown));
  });
});

describe('decide: errors that are not about one row', () => {
  it('IDEMPOTENCY_CONCURRENT_REQUEST: wait and send the same call again, nothing decided', () => {
    const d = decide(input(answered([{ code: 'IDEMPOTENCY_CONCURRENT_REQUEST', field: null, message: 'still running' }])));
    assert.deepEqual([d.key, d.waitMs > 0, d.verdict, d.next.length], ['same', true, 'concurrent-request', 3]);
    assert.equal(d.outcome.applied.length + d.outcome.failed.length, 0);
  });

  it('IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED: the same rows under the next key', () => {
    const d = decide(input(answered([{ code: 'IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED', field: null, message: 'failed before' }])));
    assert.deepEqual([d.key, d.verdict, d.size], ['next', 'previous-attempt-failed', 3]);
    assert.deepEqual(d.next, setRows());
  });

  it('MAX_COST_EXCEEDED: nothing ran; the same rows under the next key, in a smaller call', () => {
    const d = decide(input({ kind: 'too-costly', cost: 1500, maxCost: 1000 }));
    assert.deepEqual([d.key, d.verdict, d.size], ['next', 'too-costly', 1]);
    assert.deepEqual(d.next, setRows());
    assert.equal(d.outcome.applied.length, 0);
  });

  it('any other error tied to no row refuses the call', () => {
    const d = decide(input(answered([{ code: 'INVALID_REASON', field: ['input', 'reason'], message: 'bad reason' }])));
    assert.equal(d.verdict, 'refused');
    assert.match(d.refused!, /INVALID_REASON: bad reason/);
  });

  it('a row error other than stale fails that row only', () => {
    const d = decide(input(answered([{ code: 'INVALID_QUANTITY', field: ['input', 'quantities', '2', 'quantity'], message: 'too big' }])));
    assert.deepEqual(d.outcome.failed, [{ change: 2, code: 'INVALID_QUANTITY', message: 'too big' }]);
    assert.deepEqual([d.verdict, d.next.length], ['failed', 2]);
  });
});
