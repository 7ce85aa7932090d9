import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshKey, gql, ITEM_101, LOC_1, SET_MUTATION, setInput, startDemo } from './helpers.js';
import { generateSeed, startEmulator } from '../../../src/emulator/index.js';

const QUERY = '{ location { id } }';

describe('emulator faults', () => {
  it('are all off by default', async () => {
    const emulator = await startDemo();
    try {
      for (let i = 0; i < 20; i++) assert.equal((await gql(emulator, QUERY)).status, 200);
      assert.deepEqual(emulator.state.counters.faults, { errors: 0, drops: 0, lateErrors: 0, delayed: 0 });
    } finally {
      await emulator.close();
    }
  });

  it('answers a seeded, reproducible share of requests with 5xx, before anything runs', async () => {
    const statuses = async () => {
      const emulator = await startDemo({ faults: { errorRate: 0.3, seed: 42 } });
      try {
        const out: number[] = [];
        for (let i = 0; i < 30; i++) out.push((await gql(emulator, QUERY).catch(() => ({ status: -1 }))).status);
        assert.equal(emulator.state.counters.faults.errors, out.filter((s) => s >= 500).length);
        return out;
      } finally {
        await emulator.close();
      }
    };
    const first = await statuses();
    assert.deepEqual(await statuses(), first, 'same fault seed, same sequence');
    assert.ok(first.some((s) => s >= 500) && first.some((s) => s === 200));
    assert.ok(first.every((s) => s === 200 || [500, 502, 503, 504].includes(s)));

    const always = await startDemo({ faults: { errorRate: 1 } });
    try {
      const answer = await gql(always, SET_MUTATION, {
        input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: null }]),
        key: freshKey(),
      });
      assert.ok(answer.status >= 500);
      assert.equal(always.state.level(ITEM_101, LOC_1)!.available, 5, 'a 5xx means nothing ran');
    } finally {
      await always.close();
    }
  });

  it('drops connections after running the request: the retry with the same key is a replay', async () => {
    const emulator = await startDemo({ faults: { dropRate: 1 } });
    try {
      const key = freshKey();
      const input = setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 8, changeFromQuantity: 5 }]);
      await assert.rejects(gql(emulator, SET_MUTATION, { input, key }));
      assert.equal(emulator.state.counters.faults.drops, 1);
      assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 8, 'the request ran; only its answer was lost');
      emulator.state.setFaults({ dropRate: 0 });
      const retry = await gql(emulator, SET_MUTATION, { input, key });
      assert.deepEqual(retry.body.data!.inventorySetQuantities.userErrors, [], 'the retry is a replay, not a stale CAS');
      assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 8);
      assert.equal(emulator.state.history.filter((entry) => entry.name === 'available').length, 1);
    } finally {
      await emulator.close();
    }
  });

  it('answers 502/504 after running the request at --late-error-rate: the write happened, the answer says otherwise', async () => {
    const emulator = await startDemo({ faults: { lateErrorRate: 1 } });
    try {
      const key = freshKey();
      const input = setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 7, changeFromQuantity: 5 }]);
      const lost = await gql(emulator, SET_MUTATION, { input, key }).catch(() => undefined);
      assert.ok(lost === undefined || [502, 504].includes(lost.status), 'a gateway error, not an answer');
      assert.equal(emulator.state.counters.faults.lateErrors, 1);
      assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 7, 'the request ran');
      emulator.state.setFaults({ lateErrorRate: 0 });
      const retry = await gql(emulator, SET_MUTATION, { input, key });
      assert.ok(retry.body.data!.inventorySetQuantities.inventoryAdjustmentGroup, 'the retry under the same key replays the success');
      assert.equal(emulator.state.counters.idempotentReplays, 1);
      assert.throws(() => emulator.state.setFaults({ dropRate: 0.6, lateErrorRate: 0.6 }), /at most 1/);
    } finally {
      await emulator.close();
    }
  });

  it('adds latency when asked', async () => {
    const emulator = await startDemo({ faults: { latencyMs: 5 } });
    try {
      assert.equal((await gql(emulator, QUERY)).status, 200);
      assert.equal(emulator.state.counters.faults.delayed, 1);
    } finally {
      await emulator.close();
    }
  });

  it('streams sales: available down, committed up, on_hand unchanged, never below 0', async () => {
    const seed = generateSeed({ items: 20, locations: 2, seed: 3 });
    const emulator = await startEmulator({ seed, faults: { salesPerSecond: 500, seed: 9 } });
    try {
      for (let wait = 0; wait < 500 && emulator.state.counters.sales < 20; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      emulator.state.setFaults({ salesPerSecond: 0 });
      const sales = emulator.state.counters.sales;
      assert.ok(sales >= 20, `saw ${sales} sales`);
      const entries = emulator.state.history.filter((entry) => entry.kind === 'sale');
      assert.equal(entries.length, sales * 2);
      for (const entry of entries) {
        assert.equal(entry.delta, entry.name === 'available' ? -1 : 1);
        assert.ok(entry.name === 'available' ? entry.before > 0 : entry.name === 'committed');
      }
      for (const item of seed.items) {
        for (const level of item.levels!) {
          const now = emulator.state.level(item.inventoryItemId, level.locationId)!;
          assert.equal(now.on_hand, level.on_hand);
          assert.equal(now.available + now.committed, level.available! + level.committed!);
          assert.ok(now.available >= 0);
        }
      }
      // Stopped: no more sales.
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.equal(emulator.state.counters.sales, sales);
    } finally {
      await emulator.close();
    }
  });
});

describe('emulator inspection routes (emulator-only)', () => {
  it('serves state, history and counters, and takes sales and fault settings over HTTP', async () => {
    const emulator = await startDemo();
    try {
      const sale = await fetch(`${emulator.url}/_emulator/sale`, {
        method: 'POST',
        body: JSON.stringify({ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 2 }),
      });
      assert.equal(sale.status, 200);
      assert.deepEqual(((await sale.json()) as any).quantities.available, 3);
      await gql(emulator, SET_MUTATION, {
        input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 6, changeFromQuantity: 3 }]),
        key: 'inspect-1',
      });
      const state = (await (await fetch(`${emulator.url}/_emulator/state`)).json()) as any;
      assert.equal(state.levels.length, 15);
      const level = state.levels.find((l: any) => l.inventoryItemId === ITEM_101 && l.locationId === LOC_1);
      assert.deepEqual([level.sku, level.quantities.available, level.quantities.committed, level.quantities.on_hand], ['TEE-RED-M', 6, 4, 10]);
      const filtered = (await (await fetch(`${emulator.url}/_emulator/state?sku=MUG-WHT`)).json()) as any;
      assert.equal(filtered.levels.length, 2);
      const history = (await (await fetch(`${emulator.url}/_emulator/history`)).json()) as any;
      assert.deepEqual(
        history.history.map((h: any) => `${h.kind}:${h.name}:${h.delta}`),
        ['sale:available:-2', 'sale:committed:2', 'set:available:3', 'set:on_hand:3'],
      );
      assert.equal(history.history[2].idempotencyKey, 'inspect-1');
      assert.equal(history.counters.mutations, 1);
      assert.equal(history.counters.operations.inventorySetQuantities, 1);
      const faults = await fetch(`${emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 1 }) });
      assert.equal(((await faults.json()) as any).errorRate, 1);
      assert.ok((await gql(emulator, QUERY)).status >= 500);
    } finally {
      await emulator.close();
    }
  });
});
