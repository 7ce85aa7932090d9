import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, type OperationDefinitionNode } from 'graphql';
import { LeakyBucket, requestedCost } from '../../../src/emulator/cost.js';
import { buildEmulatorSchema } from '../../../src/emulator/graph.js';
import { freshKey, gql, ITEM_101, LOC_1, SET_MUTATION, setInput, startDemo } from './helpers.js';

const schema = buildEmulatorSchema();
function cost(query: string, variables: Record<string, unknown> = {}): number {
  const document = parse(query);
  return requestedCost({ schema, operation: document.definitions[0] as OperationDefinitionNode, fragments: {}, variables });
}

describe('emulator cost model', () => {
  it('charges objects 1, scalars 0, connections 2 + first × node, mutations 10', () => {
    assert.equal(cost('{ location { id name } }'), 1);
    assert.equal(cost('{ locations(first: 50) { edges { node { id name } } } }'), 2 + 50);
    assert.equal(cost('query($n: Int) { locations(first: $n) { nodes { id } pageInfo { hasNextPage } } }', { n: 10 }), 12);
    // item (1) + levels connection (2 + 10 × (level 1 + location 1 + quantities 1))
    assert.equal(
      cost(
        '{ inventoryItems(first: 100) { nodes { sku inventoryLevels(first: 10) { nodes { location { id } quantities(names: ["available"]) { quantity } } } } } }',
      ),
      2 + 100 * (1 + 2 + 10 * 3),
    );
    assert.equal(cost(SET_MUTATION), 10);
  });

  it('reports extensions.cost on every answer and charges the actual cost back', async () => {
    const emulator = await startDemo();
    try {
      const answer = await gql(emulator, '{ inventoryItems(first: 100) { nodes { id } } }');
      const extension = answer.body.extensions!.cost;
      assert.equal(extension.requestedQueryCost, 102);
      assert.equal(extension.actualQueryCost, 2 + 9, '9 items were returned, not 100');
      assert.equal(extension.throttleStatus.maximumAvailable, 2000);
      assert.equal(extension.throttleStatus.restoreRate, 100);
      assert.ok(extension.throttleStatus.currentlyAvailable >= 2000 - 11 && extension.throttleStatus.currentlyAvailable < 2000);
      const mutation = await gql(emulator, SET_MUTATION, {
        input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: null }]),
        key: freshKey(),
      });
      assert.equal(mutation.body.extensions!.cost.requestedQueryCost, 10);
    } finally {
      await emulator.close();
    }
  });

  it('answers THROTTLED exactly as Shopify does when the bucket is short, and nothing runs', async () => {
    const emulator = await startDemo({ bucket: { maximumAvailable: 30, restoreRate: 0.001 } });
    try {
      const first = await gql(emulator, '{ inventoryItems(first: 20) { nodes { id } } }');
      assert.equal(first.body.extensions!.cost.requestedQueryCost, 22);
      const throttled = await gql(emulator, SET_MUTATION, {
        input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: null }]),
        key: freshKey(),
      });
      // 30 − 22 requested + 11 refunded (9 items returned) = 19 left: a mutation (10) still fits, the next does not.
      assert.equal(throttled.status, 200);
      const again = await gql(emulator, '{ inventoryItems(first: 20) { nodes { id } } }');
      assert.equal(again.status, 200);
      assert.deepEqual(again.body.errors, [
        { message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } },
      ]);
      assert.equal(again.body.data, undefined);
      assert.equal(again.body.extensions!.cost.requestedQueryCost, 22);
      assert.equal(again.body.extensions!.cost.actualQueryCost, null);
      assert.equal(again.body.extensions!.cost.throttleStatus.maximumAvailable, 30);
      assert.ok(again.body.extensions!.cost.throttleStatus.currentlyAvailable < 22);
      assert.equal(emulator.state.counters.throttled, 1);
    } finally {
      await emulator.close();
    }
  });

  it('refills at restoreRate', () => {
    let now = 0;
    const bucket = new LeakyBucket(100, 10, () => now);
    assert.equal(bucket.tryTake(100), true);
    assert.equal(bucket.tryTake(1), false);
    now = 2500;
    assert.equal(bucket.status().currentlyAvailable, 25);
    now = 60_000;
    assert.equal(bucket.status().currentlyAvailable, 100, 'never above maximumAvailable');
  });

  it('refuses a single query over 1000 points with MAX_COST_EXCEEDED, whatever the bucket holds', async () => {
    const emulator = await startDemo();
    try {
      const answer = await gql(emulator, '{ inventoryItems(first: 250) { nodes { inventoryLevels(first: 10) { nodes { id } } } } }');
      const errors = answer.body.errors as any[];
      assert.equal(errors[0].extensions.code, 'MAX_COST_EXCEEDED');
      assert.equal(errors[0].extensions.cost, 2 + 250 * (1 + 2 + 10));
      assert.equal(errors[0].extensions.maxCost, 1000);
      assert.match(errors[0].message, /^Query cost is 3252, which exceeds the single query max cost limit \(1000\)/);
      assert.equal(answer.body.extensions!.cost.throttleStatus.currentlyAvailable, 2000, 'nothing was charged');
      assert.equal(emulator.state.counters.maxCostExceeded, 1);
    } finally {
      await emulator.close();
    }
  });
});
