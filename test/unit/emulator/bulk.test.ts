import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateSeedSource, startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import { gql, startDemo } from './helpers.js';

const RUN = `mutation($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { code field message } } }`;
const POLL = `query($id: ID!) { bulkOperation(id: $id) { id status objectCount rootObjectCount fileSize url createdAt completedAt type query errorCode } }`;
const ITEMS_WITH_LEVELS = `{ inventoryItems { edges { node { id sku inventoryLevels { edges { node { id location { id } quantities(names: ["available", "on_hand"]) { name quantity } } } } } } } }`;

async function runBulk(emulator: RunningEmulator, query: string): Promise<{ operation: Record<string, any>; lines: Record<string, any>[]; text: string }> {
  const started = await gql(emulator, RUN, { query });
  const payload = started.body.data!.bulkOperationRunQuery;
  assert.deepEqual(payload.userErrors, []);
  assert.equal(payload.bulkOperation.status, 'CREATED');
  let operation: Record<string, any> = {};
  for (let attempt = 0; attempt < 2000; attempt++) {
    operation = (await gql(emulator, POLL, { id: payload.bulkOperation.id })).body.data!.bulkOperation;
    if (operation.status === 'COMPLETED' || operation.status === 'FAILED') break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(operation.status, 'COMPLETED');
  const response = await fetch(operation.url);
  assert.equal(response.status, 200);
  const text = await response.text();
  return {
    operation,
    text,
    lines: text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line)),
  };
}

describe('emulator bulk operations', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startDemo();
  });
  after(() => emulator.close());

  it('runs a query over every node and serves JSONL with __parentId child lines, some after later parents', async () => {
    const { operation, lines, text } = await runBulk(emulator, ITEMS_WITH_LEVELS);
    const roots = lines.filter((line) => !('__parentId' in line));
    const children = lines.filter((line) => '__parentId' in line);
    assert.equal(roots.length, 9);
    assert.equal(children.length, 15);
    assert.equal(operation.rootObjectCount, '9');
    assert.equal(operation.objectCount, '24');
    assert.equal(operation.fileSize, String(Buffer.byteLength(text)));
    assert.equal(operation.type, 'QUERY');
    assert.equal(operation.errorCode, null);
    assert.ok(operation.createdAt && operation.completedAt);
    // Every child comes after its parent …
    const seenAt = new Map<string, number>();
    lines.forEach((line, index) => seenAt.set(line.id, index));
    let interleaved = 0;
    lines.forEach((line, index) => {
      if (!line.__parentId) return;
      assert.ok(seenAt.get(line.__parentId)! < index, `${line.id} comes after its parent`);
      // … but not always in the run right after it: another root line sits in between.
      const lastRoot = lines
        .slice(0, index)
        .reverse()
        .find((candidate) => !candidate.__parentId);
      if (lastRoot?.id !== line.__parentId) interleaved++;
    });
    assert.ok(interleaved > 0, 'some child lines follow a later parent');
    const level = children.find((line) => line.id.includes('inventory_item_id=101') && line.location.id === 'gid://shopify/Location/1');
    assert.ok(level, 'the level of item 101 at location 1 is in the result');
    assert.deepEqual(level.quantities, [
      { name: 'available', quantity: 5 },
      { name: 'on_hand', quantity: 7 },
    ]);
    assert.equal(level.__parentId, 'gid://shopify/InventoryItem/101');
    const current = await gql(emulator, '{ currentBulkOperation { id status } }');
    assert.equal(current.body.data!.currentBulkOperation.status, 'COMPLETED');
  });

  it('walks locations → inventoryLevels too', async () => {
    const { lines } = await runBulk(emulator, '{ locations { edges { node { id name inventoryLevels { edges { node { id item { sku } } } } } } } }');
    const roots = lines.filter((line) => !line.__parentId);
    assert.deepEqual(
      roots.map((line) => line.name),
      ['Downtown Store', 'Main Warehouse', 'Pop-up Kiosk'],
    );
    const atKiosk = lines.filter((line) => line.__parentId === 'gid://shopify/Location/3').map((line) => line.item.sku);
    assert.deepEqual(atKiosk, ['STICKER']);
  });

  it('refuses invalid bulk queries with userErrors', async () => {
    const invalid = await gql(emulator, RUN, { query: '{ inventoryItems { nodes { nope } } }' });
    assert.equal(invalid.body.data!.bulkOperationRunQuery.bulkOperation, null);
    assert.deepEqual(
      invalid.body.data!.bulkOperationRunQuery.userErrors.map((e: any) => [e.code, e.field]),
      [['INVALID', ['query']]],
    );
    const noConnection = await gql(emulator, RUN, { query: '{ location { id } }' });
    assert.match(noConnection.body.data!.bulkOperationRunQuery.userErrors[0].message, /at least one connection/);
    const messages = async (query: string) => (await gql(emulator, RUN, { query })).body.data!.bulkOperationRunQuery.userErrors.map((e: any) => e.message);
    // Three levels of connections: Shopify allows two.
    assert.deepEqual(
      await messages('{ locations { edges { node { id inventoryLevels { edges { node { id item { id inventoryLevels { edges { node { id } } } } } } } } } } }'),
      ['Bulk queries cannot contain connections with a nesting depth greater than 2.'],
    );
    assert.deepEqual(await messages('{ inventoryItems { nodes { id } } }'), [
      "All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: 'products { edges { node {'. Selecting via 'nodes' is not supported. Invalid connection fields: 'inventoryItems'.",
    ]);
    assert.deepEqual(await messages('{ inventoryItems { edges { node { sku inventoryLevels { edges { node { id } } } } } } }'), [
      "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': inventoryItems.",
    ]);
    const six = '{ ' + ['a', 'b', 'c', 'd', 'e', 'f'].map((alias) => `${alias}: locations { edges { node { id } } }`).join(' ') + ' }';
    assert.deepEqual(await messages(six), ['Bulk queries cannot contain more than 5 connections.']);
    assert.deepEqual(await messages('mutation { bulkOperationRunQuery(query: "") { userErrors { message } } }'), [
      'Invalid operation type. Only `query` operations are supported.',
    ]);
    const unknown = await gql(emulator, POLL, { id: 'gid://shopify/BulkOperation/999' });
    assert.equal(unknown.body.data!.bulkOperation, null);
  });

  it('covers a generated shop exactly, with the current quantities', async () => {
    const big = await startEmulator({ seed: generateSeedSource({ items: 3000, locations: 4, seed: 7 }) });
    try {
      big.state.sell('gid://shopify/InventoryItem/1000001', 'gid://shopify/Location/1001', 0 + 1);
      const { lines } = await runBulk(big, ITEMS_WITH_LEVELS);
      const children = lines.filter((line) => line.__parentId);
      assert.equal(lines.length - children.length, 3000);
      assert.equal(children.length, 12000);
      assert.equal(new Set(children.map((line) => line.id)).size, 12000);
      for (const line of children.slice(0, 200)) {
        const quantities = big.state.level(line.__parentId, line.location.id)!;
        assert.deepEqual(line.quantities, [
          { name: 'available', quantity: quantities.available },
          { name: 'on_hand', quantity: quantities.on_hand },
        ]);
      }
    } finally {
      await big.close();
    }
  });
});
