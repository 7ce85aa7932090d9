import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { getVariableValues, parse, type OperationDefinitionNode } from 'graphql';
import { loadSeed, startEmulator, type RunningEmulator, type StartEmulatorOptions } from '../../../src/emulator/index.js';
import { buildEmulatorSchema } from '../../../src/emulator/graph.js';
import { compileInventoryMutation } from '../../../src/emulator/inventory-answer.js';
import { compileVariables } from '../../../src/emulator/variables.js';
import { INVENTORY_ADJUST_QUANTITIES, INVENTORY_SET_QUANTITIES } from '../../../src/sources/shopify/documents.js';
import { demoSeedPath, ITEM_101, ITEM_102, ITEM_105, LOC_1, LOC_2, LOC_3 } from './helpers.js';

// The compiled inventory mutations must answer byte for byte what graphql-js answers. Two emulators on one seed
// get the same requests; the second's documents wrap the payload's selection in an inline fragment, which
// changes nothing in graphql-js's answer but keeps them out of the compiled path.

const SET_PAYLOAD = 'InventorySetQuantitiesPayload';
const ADJUST_PAYLOAD = 'InventoryAdjustQuantitiesPayload';

/** The same document with the root field's selection inside `... on Payload { }`. */
function viaGraphqlJs(document: string, payload: string): string {
  const at = document.indexOf('@idempotent');
  const open = document.indexOf('{', at);
  const close = document.lastIndexOf('}', document.lastIndexOf('}') - 1);
  return `${document.slice(0, open + 1)} ... on ${payload} {${document.slice(open + 1, close)}} ${document.slice(close)}`;
}

async function post(emulator: RunningEmulator, query: string, variables: unknown): Promise<string> {
  const response = await fetch(emulator.graphqlUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-access-token': 'test-token' },
    body: JSON.stringify({ query, variables }),
  });
  return `${response.status} ${await response.text()}`;
}

/** Each emulator stamps its own adjustment groups: the times differ, their place and shape must not. */
const unstamped = (answer: string) => answer.replace(/"createdAt":"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"createdAt":"<time>"');

const schema = buildEmulatorSchema();
const compiles = (document: string) => compileInventoryMutation(schema, parse(document)) !== undefined;

const ALL_FIELDS = `mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  done: inventorySetQuantities(input: $input) @idempotent(key: $key) {
    __typename
    userErrors { message field code __typename }
    group: inventoryAdjustmentGroup {
      reason __typename id referenceDocumentUri
      changes { quantityAfterChange __typename ledgerDocumentUri delta name
        item { __typename tracked sku id legacyResourceId duplicateSkuCount }
        location { legacyResourceId isActive name id __typename } }
    }
  }
}`;
const ADJUST_ALL = `mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange ledgerDocumentUri item { sku } location { id } } }
    userErrors { code field message }
  }
}`;
const WITH_ARGUMENTS = `mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { changes(quantityNames: ["available"]) { name delta } }
    userErrors { code }
  }
}`;
const VARIABLE_ARGUMENT = `mutation Set($input: InventorySetQuantitiesInput!, $key: String!, $names: [String!]) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { changes(quantityNames: $names) { name delta } }
    userErrors { code }
  }
}`;
/** Field arguments written out in the document, as the tool sends them. */
const filtered = (args: string) => `mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes(${args}) { name delta quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
}`;
const NO_KEY = `mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { userErrors { code } }
}`;

const row = (inventoryItemId: string, locationId: string, quantity: number, changeFromQuantity: number | null) => ({
  inventoryItemId,
  locationId,
  quantity,
  changeFromQuantity,
});
const input = (quantities: unknown[], overrides: Record<string, unknown> = {}) => ({ reason: 'correction', name: 'available', quantities, ...overrides });

describe('compiled inventory mutations answer as graphql-js does', () => {
  let compiled: RunningEmulator;
  let reference: RunningEmulator;
  const start = (options: Partial<StartEmulatorOptions>) =>
    startEmulator({ seed: loadSeed(demoSeedPath), bucket: { maximumAvailable: 2000, restoreRate: 1e9 }, ...options });
  beforeEach(async () => {
    [compiled, reference] = await Promise.all([start({}), start({})]);
  });
  afterEach(async () => {
    await Promise.all([compiled.close(), reference.close()]);
  });

  /** Sends one request to both emulators (the reference's document kept out of the compiled path) and compares. */
  async function same(document: string, payload: string, variables: unknown): Promise<string> {
    const fast = await post(compiled, document, variables);
    const slow = await post(reference, viaGraphqlJs(document, payload), variables);
    assert.equal(unstamped(fast), unstamped(slow));
    return fast;
  }

  it('covers the documents the tool sends, and leaves others to graphql-js', () => {
    for (const document of [INVENTORY_SET_QUANTITIES, INVENTORY_ADJUST_QUANTITIES, ALL_FIELDS, ADJUST_ALL, WITH_ARGUMENTS])
      assert.ok(compiles(document), document);
    for (const document of [VARIABLE_ARGUMENT, NO_KEY, viaGraphqlJs(INVENTORY_SET_QUANTITIES, SET_PAYLOAD), filtered('quantityNames: 7')])
      assert.ok(!compiles(document), document);
  });

  it('writes, replays, refuses a reused key, stale rows and unknown ids, in the same bytes', async () => {
    const key = { idempotencyKey: 'k1', referenceDocumentUri: 'gid://invrecon/Plan/1' };
    const rows = [row(ITEM_101, LOC_1, 9, 5), row(ITEM_102, LOC_1, 3, null), row(ITEM_105, LOC_1, 0, 1)];
    const first = await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { ...key, quantities: rows });
    assert.match(first, /"quantityAfterChange":9/);
    assert.match(await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { ...key, quantities: rows }), /"quantityAfterChange":9/);
    assert.match(await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { ...key, quantities: rows.slice(1) }), /IDEMPOTENCY_KEY_PARAMETER_MISMATCH/);
    assert.match(await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { idempotencyKey: 'k2', quantities: [row(ITEM_101, LOC_1, 1, 5)] }), /STALE/);
    assert.match(
      await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { idempotencyKey: 'k3', quantities: [row('gid://shopify/InventoryItem/999', LOC_3, 1, 0)] }),
      /INVALID_INVENTORY_ITEM/,
    );
    await same(INVENTORY_ADJUST_QUANTITIES, ADJUST_PAYLOAD, {
      idempotencyKey: 'k4',
      changes: [{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: -2, changeFromQuantity: 9 }],
    });
    assert.deepEqual(compiled.state.level(ITEM_101, LOC_1), reference.state.level(ITEM_101, LOC_1));
    assert.equal(compiled.state.history.length, reference.state.history.length);
  });

  it('gives aliases, __typename, every field and the adjustments of other quantities as graphql-js does', async () => {
    await same(ALL_FIELDS, SET_PAYLOAD, { key: 'a1', input: input([row(ITEM_101, LOC_1, 4, 7)], { name: 'on_hand', referenceDocumentUri: 'invrecon://x' }) });
    await same(ADJUST_ALL, ADJUST_PAYLOAD, {
      key: 'a2',
      input: {
        reason: 'damaged',
        name: 'damaged',
        changes: [{ inventoryItemId: ITEM_102, locationId: LOC_1, delta: 1, changeFromQuantity: null, ledgerDocumentUri: 'invrecon://ledger/1' }],
      },
    });
    await same(ADJUST_ALL, ADJUST_PAYLOAD, {
      key: 'a3',
      input: { reason: 'correction', name: 'available', changes: [{ inventoryItemId: ITEM_102, locationId: LOC_1, delta: 1, changeFromQuantity: null }] },
    });
    await same(ALL_FIELDS, SET_PAYLOAD, { key: 'a4', input: input([row(ITEM_101, LOC_1, 4, null)], { name: 'committed', reason: 'nope' }) });
  });

  it('filters the changes by arguments written in the document as graphql-js does', async () => {
    const rows = [row(ITEM_101, LOC_1, 4, null), row(ITEM_102, LOC_1, 8, null)];
    const only = await same(filtered('quantityNames: ["available"]'), SET_PAYLOAD, { key: 'f1', input: input(rows) });
    assert.equal(only.match(/"name":/g)?.length, 2, only);
    assert.equal(
      (await same(filtered('quantityNames: ["available", "on_hand"]'), SET_PAYLOAD, { key: 'f2', input: input(rows) })).match(/"name":/g)?.length,
      4,
    );
    const one = await same(filtered(`inventoryItemIds: ["${ITEM_102}"], quantityNames: "available"`), SET_PAYLOAD, { key: 'f3', input: input(rows) });
    assert.equal(one.match(/"name":/g)?.length, 1, one);
    assert.match(await same(filtered('quantityNames: ["bogus"]'), SET_PAYLOAD, { key: 'f4', input: input(rows) }), /"errors"/);
  });

  it('refuses bad variables, oversized and shapeless inputs as graphql-js does, writing nothing', async () => {
    assert.match(await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { idempotencyKey: 'b1', quantities: [row(ITEM_101, LOC_1, 'x' as never, 5)] }), /"errors"/);
    assert.match(await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { quantities: [row(ITEM_101, LOC_1, 6, 5)] }), /"errors"/);
    const many = Array.from({ length: 251 }, (_, i) => row(`gid://shopify/InventoryItem/${i}`, LOC_1, 1, 0));
    assert.match(await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { idempotencyKey: 'b2', quantities: many }), /MAX_INPUT_SIZE_EXCEEDED/);
    assert.match(
      await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { idempotencyKey: 'b3', quantities: [{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 6 }] }),
      /changeFromQuantity/,
    );
    assert.match(
      await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { idempotencyKey: 'b4', quantities: [{ ...row(ITEM_101, LOC_1, 6, 5), extra: 1 }] }),
      /"errors"/,
    );
    assert.equal(compiled.state.history.length, 0);
    assert.equal(reference.state.history.length, 0);
  });

  it('leaves a delta beyond 32 bits to graphql-js (the write happened, the answer is its error)', async () => {
    const seed = {
      locations: [{ id: LOC_1, name: 'Main' }],
      items: [{ inventoryItemId: ITEM_101, sku: 'A', levels: [{ locationId: LOC_1, available: -2_000_000_000, committed: 0 }] }],
    };
    await Promise.all([compiled.close(), reference.close()]);
    [compiled, reference] = await Promise.all([start({ seed }), start({ seed })]);
    const answer = await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, {
      idempotencyKey: 'c1',
      quantities: [row(ITEM_101, LOC_1, 1_000_000_000, -2_000_000_000)],
    });
    assert.match(answer, /Int cannot represent/);
    assert.equal(compiled.state.level(ITEM_101, LOC_1)!.available, 1_000_000_000);
  });

  it('denies a shop without write_inventory as graphql-js does', async () => {
    await Promise.all([compiled.close(), reference.close()]);
    [compiled, reference] = await Promise.all([start({ scopes: ['read_inventory'] }), start({ scopes: ['read_inventory'] })]);
    assert.match(await same(INVENTORY_SET_QUANTITIES, SET_PAYLOAD, { idempotencyKey: 'd1', quantities: [row(ITEM_101, LOC_1, 6, 5)] }), /ACCESS_DENIED/);
  });

  it('answers a retry while the first request still holds its key as graphql-js does', async () => {
    compiled.state.setFaults({ latencyMs: 50 });
    reference.state.setFaults({ latencyMs: 50 });
    const variables = { idempotencyKey: 'e1', quantities: [row(ITEM_101, LOC_1, 6, 5)] };
    const fast = await Promise.all([post(compiled, INVENTORY_SET_QUANTITIES, variables), post(compiled, INVENTORY_SET_QUANTITIES, variables)]);
    const reference_ = viaGraphqlJs(INVENTORY_SET_QUANTITIES, SET_PAYLOAD);
    const slow = await Promise.all([post(reference, reference_, variables), post(reference, reference_, variables)]);
    assert.deepEqual(fast.map(unstamped), slow.map(unstamped));
    assert.match(fast.join(), /IDEMPOTENCY_CONCURRENT_REQUEST/);
  });
});

describe('compiled variable coercion', () => {
  const operation = (document: string) => parse(document).definitions[0] as OperationDefinitionNode;
  const ours = (document: string) => compileVariables(schema, operation(document).variableDefinitions ?? [])!;
  const theirs = (document: string, inputs: Record<string, unknown>) => getVariableValues(schema, operation(document).variableDefinitions ?? [], inputs);
  const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

  it('gives what graphql-js gives, or leaves the value to it', () => {
    const cases: [string, Record<string, unknown>][] = [
      [INVENTORY_SET_QUANTITIES, { idempotencyKey: 'k', referenceDocumentUri: null, quantities: [row(ITEM_101, LOC_1, 3, 5), row(ITEM_102, LOC_2, 0, null)] }],
      [INVENTORY_SET_QUANTITIES, { idempotencyKey: 'k', quantities: [{ inventoryItemId: 101, locationId: LOC_1, quantity: 3 }] }],
      [INVENTORY_SET_QUANTITIES, { idempotencyKey: 'k', quantities: row(ITEM_101, LOC_1, 3, 5) }],
      [INVENTORY_SET_QUANTITIES, { idempotencyKey: 'k', quantities: [{ ...row(ITEM_101, LOC_1, 3, 5), extra: true }] }],
      [INVENTORY_SET_QUANTITIES, { idempotencyKey: 'k', quantities: [row(ITEM_101, LOC_1, 2 ** 31, 5)] }],
      [INVENTORY_SET_QUANTITIES, { idempotencyKey: 'k', quantities: [row(ITEM_101, LOC_1, 1.5, 5)] }],
      [INVENTORY_SET_QUANTITIES, { idempotencyKey: 'k', quantities: [{ locationId: LOC_1, quantity: 1, changeFromQuantity: 1 }] }],
      [INVENTORY_SET_QUANTITIES, { idempotencyKey: null, quantities: [] }],
      [INVENTORY_SET_QUANTITIES, { quantities: [] }],
      [INVENTORY_SET_QUANTITIES, { idempotencyKey: 7, quantities: [[row(ITEM_101, LOC_1, 3, 5)]] }],
      [
        INVENTORY_ADJUST_QUANTITIES,
        { idempotencyKey: 'k', changes: [{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: -1, changeFromQuantity: 5, ledgerDocumentUri: 'a://b' }] },
      ],
      [ALL_FIELDS, { key: 'k', input: input([row(ITEM_101, LOC_1, 3, 5)], { referenceDocumentUri: 'a://b' }) }],
      [ALL_FIELDS, { key: 'k', input: input([row(ITEM_101, LOC_1, 3, 5)], { reason: 3 }) }],
    ];
    let compiledCount = 0;
    for (const [document, inputs] of cases) {
      const expected = theirs(document, inputs);
      const actual = ours(document)(inputs);
      if (actual === undefined) continue;
      compiledCount++;
      assert.ok('coerced' in expected, `graphql-js refuses ${JSON.stringify(inputs)}, the compiled coercion took it`);
      assert.deepEqual(plain(actual), plain(expected.coerced));
      assert.equal(JSON.stringify(actual), JSON.stringify(expected.coerced), 'same key order');
    }
    assert.ok(compiledCount >= 4, `${compiledCount} cases compiled`);
  });
});
