import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { gql, ITEM_101, LOC_1, LOC_2, LOC_3, startDemo } from './helpers.js';

describe('emulator reads', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startDemo();
  });
  after(() => emulator.close());

  it('says which API version it served (X-Shopify-API-Version): the one asked, or the oldest supported for an old or malformed one', async () => {
    const served = async (version: string) =>
      (
        await fetch(`${emulator.url}/admin/api/${version}/graphql.json`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-shopify-access-token': 't' },
          body: JSON.stringify({ query: '{ shop { id } }' }),
        })
      ).headers.get('x-shopify-api-version');
    assert.equal(await served('2026-10'), '2026-10');
    assert.equal(await served('2026-04'), '2026-04');
    assert.equal(await served('2024-01'), '2026-01');
    assert.equal(await served('latest'), '2026-01');
    assert.equal(await served('unstable'), 'unstable');
  });

  it('answers 401 without a non-empty X-Shopify-Access-Token', async () => {
    const missing = await gql(emulator, '{ location { id } }', {}, null);
    assert.equal(missing.status, 401);
    assert.match(JSON.stringify(missing.body.errors), /Invalid API key or access token/);
    const empty = await gql(emulator, '{ location { id } }', {}, '');
    assert.equal(empty.status, 401);
    assert.equal(emulator.state.counters.unauthorized, 2);
  });

  it('requires the exact token when one is configured', async () => {
    const strict = await startDemo({ token: 'shpat_right' });
    try {
      assert.equal((await gql(strict, '{ location { id } }', {}, 'shpat_wrong')).status, 401);
      const ok = await gql(strict, '{ location { id } }', {}, 'shpat_right');
      assert.equal(ok.status, 200);
      assert.equal(ok.body.data?.location.id, LOC_1);
    } finally {
      await strict.close();
    }
  });

  it('pages locations with opaque cursors and pageInfo, in name order by default', async () => {
    const query = `query($after: String) { locations(first: 2, after: $after) {
      edges { cursor node { id name } } nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
    const page1 = (await gql(emulator, query)).body.data!.locations;
    assert.deepEqual(
      page1.edges.map((e: any) => e.node.name),
      ['Downtown Store', 'Main Warehouse'],
    );
    assert.deepEqual(
      page1.nodes.map((n: any) => n.id),
      [LOC_2, LOC_1],
    );
    assert.equal(page1.pageInfo.hasNextPage, true);
    assert.equal(page1.pageInfo.hasPreviousPage, false);
    assert.equal(page1.pageInfo.startCursor, page1.edges[0].cursor);
    assert.equal(page1.pageInfo.endCursor, page1.edges[1].cursor);
    assert.doesNotMatch(page1.pageInfo.endCursor, /^\d+$/, 'cursors are opaque, not raw offsets');
    const page2 = (await gql(emulator, query, { after: page1.pageInfo.endCursor })).body.data!.locations;
    assert.deepEqual(
      page2.nodes.map((n: any) => n.id),
      [LOC_3],
    );
    assert.equal(page2.pageInfo.hasNextPage, false);
    assert.equal(page2.pageInfo.hasPreviousPage, true);
    const byId = (await gql(emulator, '{ locations(first: 5, sortKey: ID) { nodes { id } } }')).body.data!.locations;
    assert.deepEqual(
      byId.nodes.map((n: any) => n.id),
      [LOC_1, LOC_2, LOC_3],
    );
  });

  it('reads one location, and the primary one without an id', async () => {
    const answer = await gql(
      emulator,
      `{ a: location(id: "${LOC_2}") { id name isActive } b: location { id } c: location(id: "gid://shopify/Location/999") { id } }`,
    );
    assert.deepEqual(answer.body.data, { a: { id: LOC_2, name: 'Downtown Store', isActive: true }, b: { id: LOC_1 }, c: null });
  });

  it('pages every inventory item exactly once', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const answer = await gql(
        emulator,
        'query($after: String) { inventoryItems(first: 4, after: $after) { nodes { id sku } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      const connection = answer.body.data!.inventoryItems;
      seen.push(...connection.nodes.map((n: any) => n.sku));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    assert.deepEqual(seen, ['TEE-RED-M', 'TEE-RED-L', 'TEE-BLU-M', 'MUG-WHT', 'CAP-BLK', 'POS-BAG', 'GIFT-SET', 'STICKER', '']);
  });

  it('filters inventoryItems by sku:VALUE and sku:A OR sku:B, case-sensitively', async () => {
    const one = await gql(emulator, '{ inventoryItems(first: 5, query: "sku:MUG-WHT") { nodes { id sku } } }');
    assert.deepEqual(one.body.data!.inventoryItems.nodes, [{ id: 'gid://shopify/InventoryItem/104', sku: 'MUG-WHT' }]);
    const two = await gql(emulator, '{ inventoryItems(first: 5, query: "sku:CAP-BLK OR sku:TEE-RED-M") { nodes { sku } } }');
    assert.deepEqual(
      two.body.data!.inventoryItems.nodes.map((n: any) => n.sku),
      ['TEE-RED-M', 'CAP-BLK'],
    );
    const none = await gql(emulator, '{ inventoryItems(first: 5, query: "sku:mug-wht") { nodes { sku } } }');
    assert.deepEqual(none.body.data!.inventoryItems.nodes, []);
    const unsupported = await gql(emulator, '{ inventoryItems(first: 5, query: "title:shirt") { nodes { sku } } }');
    assert.match((unsupported.body.errors as any[])[0].message, /sku:VALUE/);
  });

  it('reads an item, its levels (paged) and one level with every quantity name', async () => {
    const answer = await gql(
      emulator,
      `{ inventoryItem(id: "${ITEM_101}") {
      id sku legacyResourceId
      inventoryLevels(first: 1) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
      inventoryLevel(locationId: "${LOC_1}") {
        id location { id name } item { id sku }
        quantities(names: ["available", "on_hand", "committed", "reserved", "incoming", "damaged", "safety_stock", "quality_control"]) { name quantity }
      }
      elsewhere: inventoryLevel(locationId: "${LOC_3}") { id }
    } }`,
    );
    const item = answer.body.data!.inventoryItem;
    assert.equal(item.sku, 'TEE-RED-M');
    assert.equal(item.legacyResourceId, '101');
    assert.equal(item.inventoryLevels.pageInfo.hasNextPage, true);
    assert.match(item.inventoryLevel.id, /^gid:\/\/shopify\/InventoryLevel\/\d+\?inventory_item_id=101$/);
    assert.deepEqual(item.inventoryLevel.location, { id: LOC_1, name: 'Main Warehouse' });
    assert.deepEqual(item.inventoryLevel.item, { id: ITEM_101, sku: 'TEE-RED-M' });
    assert.deepEqual(Object.fromEntries(item.inventoryLevel.quantities.map((q: any) => [q.name, q.quantity])), {
      available: 5,
      on_hand: 7,
      committed: 2,
      reserved: 0,
      incoming: 0,
      damaged: 0,
      safety_stock: 0,
      quality_control: 0,
    });
    assert.equal(item.elsewhere, null);
    const next = await gql(
      emulator,
      `query($after: String) { inventoryItem(id: "${ITEM_101}") { inventoryLevels(first: 5, after: $after) { nodes { location { id } } pageInfo { hasNextPage } } } }`,
      {
        after: item.inventoryLevels.pageInfo.endCursor,
      },
    );
    assert.deepEqual(next.body.data!.inventoryItem.inventoryLevels.nodes, [{ location: { id: LOC_2 } }]);
    const level = await gql(emulator, `{ inventoryLevel(id: "${item.inventoryLevel.id}") { location { id } } }`);
    assert.deepEqual(level.body.data!.inventoryLevel, { location: { id: LOC_1 } });
  });

  it('reads objects by global id with node(id:) and nodes(ids:), null for unknown ids', async () => {
    const answer = await gql(
      emulator,
      `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on InventoryItem { sku inventoryLevel(locationId: "${LOC_1}") { quantities(names: ["available"]) { quantity } } } ... on Location { name } }
        node(id: "${LOC_3}") { ... on Location { name } } }`,
      { ids: [ITEM_101, 'gid://shopify/InventoryItem/999', LOC_2] },
    );
    assert.deepEqual(answer.body.data, {
      nodes: [
        { __typename: 'InventoryItem', id: ITEM_101, sku: 'TEE-RED-M', inventoryLevel: { quantities: [{ quantity: 5 }] } },
        null,
        { __typename: 'Location', id: LOC_2, name: 'Downtown Store' },
      ],
      node: { name: 'Pop-up Kiosk' },
    });
    // nodes(ids:) costs per id requested: 3 × (node 1 + inventoryLevel 1 + quantities 1); node(id:) 1, like an object.
    assert.equal(answer.body.extensions!.cost.requestedQueryCost, 3 * (1 + 1 + 1) + 1);
    const tooMany = await gql(emulator, 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: Array.from({ length: 251 }, () => ITEM_101) });
    assert.equal((tooMany.body.errors as any[])[0].extensions.code, 'MAX_INPUT_SIZE_EXCEEDED');
  });

  it('refuses an unknown quantity name with an error, as Shopify does', async () => {
    const answer = await gql(
      emulator,
      `{ inventoryItem(id: "${ITEM_101}") { inventoryLevel(locationId: "${LOC_1}") { quantities(names: ["available", "sellable"]) { name quantity } } } }`,
    );
    const errors = answer.body.errors as any[];
    assert.match(errors[0].message, /'sellable' is invalid/);
  });

  it('requires first on connections and caps it at 250', async () => {
    const missing = await gql(emulator, '{ inventoryItems { nodes { id } } }');
    assert.match((missing.body.errors as any[])[0].message, /first or last/);
    const tooMany = await gql(emulator, '{ inventoryItems(first: 251) { nodes { id } } }');
    assert.match((tooMany.body.errors as any[])[0].message, /250/);
    const ok = await gql(emulator, '{ inventoryItems(first: 250) { nodes { id } } }');
    assert.equal(ok.body.data!.inventoryItems.nodes.length, 9);
  });

  it('refuses a forged cursor', async () => {
    const answer = await gql(emulator, '{ inventoryItems(first: 2, after: "not-a-cursor") { nodes { id } } }');
    assert.match((answer.body.errors as any[])[0].message, /Invalid cursor/);
  });

  it('reports GraphQL validation errors for names Shopify does not have', async () => {
    const answer = await gql(emulator, '{ inventoryItems(first: 2) { nodes { availableQuantity } } }');
    assert.equal(answer.status, 200);
    assert.match((answer.body.errors as any[])[0].message, /Cannot query field "availableQuantity"/);
    assert.ok(answer.body.extensions?.cost, 'extensions.cost on every answer');
  });
});
