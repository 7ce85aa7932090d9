import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSeed } from '../../../src/emulator/index.js';
import { MutationLedger } from '../../../src/emulator/ledger.js';
import { setQuantities } from '../../../src/emulator/mutations.js';
import { ShopStore } from '../../../src/emulator/store.js';
import { demoSeedPath, freshKey, gql, ITEM_101, LOC_1, SET_MUTATION, setInput, startDemo } from './helpers.js';

const row = (quantity: number, changeFromQuantity: number | null) => setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity, changeFromQuantity }]);

describe('emulator idempotency keys: retention window and requests still running', () => {
  it('forgets a key once its retention window has passed: the same call then runs again', () => {
    let now = 1_000_000;
    const store = new ShopStore(loadSeed(demoSeedPath));
    const ledger = new MutationLedger(store, { idempotencyTtlS: 60, clock: () => now });
    const input = row(9, null) as never;
    const first = setQuantities(ledger, input, 'k1');
    assert.deepEqual(first.userErrors, []);
    now += 59_000;
    assert.equal(setQuantities(ledger, input, 'k1'), first, 'inside the window the first payload is replayed');
    assert.equal(ledger.replays, 1);
    now += 2_000;
    const again = setQuantities(ledger, input, 'k1');
    assert.notEqual(again, first, 'past the window the key is unknown and the call runs as new');
    assert.notEqual(again.inventoryAdjustmentGroup!.id, first.inventoryAdjustmentGroup!.id);
    assert.equal(ledger.forgotten, 1);
    assert.equal(store.history.filter((entry) => entry.name === 'available').length, 2);
  });

  it('with a retention of 0 forgets every key at once: a lost answer retried with its key and old changeFromQuantity is stale', async () => {
    const emulator = await startDemo({ idempotencyTtlS: 0 });
    try {
      const key = freshKey();
      const first = await gql(emulator, SET_MUTATION, { input: row(9, 5), key });
      assert.deepEqual(first.body.data!.inventorySetQuantities.userErrors, []);
      const retry = await gql(emulator, SET_MUTATION, { input: row(9, 5), key });
      assert.deepEqual(
        retry.body.data!.inventorySetQuantities.userErrors.map((e: any) => e.code),
        ['CHANGE_FROM_QUANTITY_STALE'],
      );
      assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 9);
      assert.equal(emulator.state.counters.idempotentReplays, 0);
    } finally {
      await emulator.close();
    }
  });

  it('answers IDEMPOTENCY_CONCURRENT_REQUEST to a retry that arrives while the first request still runs, then replays once it finished', async () => {
    const emulator = await startDemo({ faults: { latencyMs: 1500 } });
    try {
      const key = freshKey();
      const [a, b] = await Promise.all([gql(emulator, SET_MUTATION, { input: row(11, 5), key }), gql(emulator, SET_MUTATION, { input: row(11, 5), key })]);
      const payloads = [a, b].map((answer) => answer.body.data!.inventorySetQuantities);
      const concurrent = payloads.filter((p) => p.userErrors[0]?.code === 'IDEMPOTENCY_CONCURRENT_REQUEST');
      const applied = payloads.filter((p) => p.inventoryAdjustmentGroup !== null);
      assert.equal(concurrent.length, 1);
      assert.equal(applied.length, 1);
      assert.deepEqual(concurrent[0].userErrors, [
        { code: 'IDEMPOTENCY_CONCURRENT_REQUEST', field: null, message: 'This request is currently inprogress, please try again.' },
      ]);
      assert.equal(concurrent[0].inventoryAdjustmentGroup, null);
      assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 11);
      const later = await gql(emulator, SET_MUTATION, { input: row(11, 5), key });
      assert.equal(later.body.data!.inventorySetQuantities.inventoryAdjustmentGroup.id, applied[0].inventoryAdjustmentGroup.id);
      assert.equal(emulator.state.history.filter((entry) => entry.name === 'available').length, 1);
    } finally {
      await emulator.close();
    }
  });

  it('changes the retention while running (setFaults / POST /_emulator/faults)', async () => {
    const emulator = await startDemo();
    try {
      const key = freshKey();
      await gql(emulator, SET_MUTATION, { input: row(9, 5), key });
      const settings = await fetch(`${emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ idempotencyTtlS: 0 }) });
      assert.equal(((await settings.json()) as { idempotencyTtlS: number }).idempotencyTtlS, 0);
      const retry = await gql(emulator, SET_MUTATION, { input: row(9, 5), key });
      assert.deepEqual(
        retry.body.data!.inventorySetQuantities.userErrors.map((e: any) => e.code),
        ['CHANGE_FROM_QUANTITY_STALE'],
      );
      assert.equal(emulator.state.counters.idempotencyKeysForgotten, 2, 'the first key (swept) and the retry (kept for 0 s)');
      assert.throws(() => emulator.state.setFaults({ idempotencyTtlS: -1 }), /idempotencyTtlS/);
    } finally {
      await emulator.close();
    }
  });

  it('holds a key only while its request runs: another key runs alongside', async () => {
    const store = new ShopStore(loadSeed(demoSeedPath));
    const ledger = new MutationLedger(store);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = ledger.exclusive(
      'held',
      () => gate,
      () => setQuantities(ledger, row(2, null) as never, 'held'),
    );
    assert.equal(ledger.isRunning('held'), true);
    const refused = await ledger.exclusive(
      'held',
      async () => {},
      () => assert.fail('must not run'),
    );
    assert.equal(refused.userErrors[0]!.code, 'IDEMPOTENCY_CONCURRENT_REQUEST');
    const other = await ledger.exclusive(
      'other',
      async () => {},
      () =>
        setQuantities(
          ledger,
          setInput([{ inventoryItemId: 'gid://shopify/InventoryItem/102', locationId: LOC_1, quantity: 1, changeFromQuantity: null }]) as never,
          'other',
        ),
    );
    assert.deepEqual(other.userErrors, []);
    release();
    assert.deepEqual((await running).userErrors, []);
    assert.equal(ledger.isRunning('held'), false);
  });

  it('knows a retry by its parameters, whatever order its JSON gives them in and whether the input is inline or a variable', async () => {
    const emulator = await startDemo();
    try {
      const key = freshKey();
      const first = await gql(emulator, SET_MUTATION, {
        key,
        input: { reason: 'correction', name: 'available', quantities: [{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 9, changeFromQuantity: 5 }] },
      });
      assert.deepEqual(first.body.data!.inventorySetQuantities.userErrors, []);
      const reordered = await gql(emulator, SET_MUTATION, {
        input: { quantities: [{ changeFromQuantity: 5, quantity: 9, locationId: LOC_1, inventoryItemId: ITEM_101 }], name: 'available', reason: 'correction' },
        key,
      });
      assert.deepEqual(reordered.body.data!.inventorySetQuantities, first.body.data!.inventorySetQuantities);
      const inline = await gql(
        emulator,
        `mutation { inventorySetQuantities(input: { quantities: [{ quantity: 9, changeFromQuantity: 5, locationId: "${LOC_1}", inventoryItemId: "${ITEM_101}" }], reason: "correction", name: "available" }) @idempotent(key: "${key}") { inventoryAdjustmentGroup { id } userErrors { code } } }`,
      );
      assert.equal(inline.body.data!.inventorySetQuantities.inventoryAdjustmentGroup.id, first.body.data!.inventorySetQuantities.inventoryAdjustmentGroup.id);
      assert.equal(emulator.state.counters.idempotentReplays, 2);
      const other = await gql(emulator, SET_MUTATION, {
        key,
        input: {
          reason: 'correction',
          name: 'available',
          quantities: [{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 9, changeFromQuantity: null }],
        },
      });
      assert.deepEqual(
        other.body.data!.inventorySetQuantities.userErrors.map((e: { code: string }) => e.code),
        ['IDEMPOTENCY_KEY_PARAMETER_MISMATCH'],
      );
      assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 9);
    } finally {
      await emulator.close();
    }
  });
});
