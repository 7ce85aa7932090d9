import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { spawnEmulatorProcess } from '../helpers/emulator-process.js';

const spawnEmulator = spawnEmulatorProcess;

async function post(url: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(`${url}/admin/api/2026-10/graphql.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-access-token': 'e2e-token' },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(response.status, 200);
  return response.json();
}

describe('invrecon emulator (spawned)', () => {
  it('prints its base URL first, serves the seed, records changes, and stops on SIGTERM', async () => {
    const { child, url, stderr, exited } = await spawnEmulator(['--port', '0', '--seed', 'fixtures/demo/shop.json']);
    try {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const read = await post(url, '{ inventoryItems(first: 10, query: "sku:TEE-RED-M") { nodes { sku inventoryLevel(locationId: "gid://shopify/Location/1") { quantities(names: ["available", "on_hand"]) { name quantity } } } } }');
      assert.deepEqual(read.data.inventoryItems.nodes, [{ sku: 'TEE-RED-M', inventoryLevel: { quantities: [{ name: 'available', quantity: 5 }, { name: 'on_hand', quantity: 7 }] } }]);
      assert.ok(read.extensions.cost.throttleStatus.maximumAvailable === 2000);
      const set = await post(
        url,
        'mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: "e2e-1") { userErrors { code } } }',
        { input: { reason: 'correction', name: 'available', quantities: [{ inventoryItemId: 'gid://shopify/InventoryItem/101', locationId: 'gid://shopify/Location/1', quantity: 6, changeFromQuantity: 5 }] } },
      );
      assert.deepEqual(set.data.inventorySetQuantities.userErrors, []);
      const state = (await (await fetch(`${url}/_emulator/state?sku=TEE-RED-M`)).json()) as any;
      assert.equal(state.levels.find((level: any) => level.locationId === 'gid://shopify/Location/1').quantities.available, 6);
      assert.equal(state.history.length, 2);
      assert.equal(state.counters.operations.inventorySetQuantities, 1);
      assert.match(stderr(), /emulator: serving/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('generates a shop and applies fault flags', async () => {
    const { child, url, exited } = await spawnEmulator(['--generate', '200x3', '--max-available', '50', '--restore-rate', '10', '--error-rate', '0']);
    try {
      const answer = await post(url, '{ inventoryItems(first: 5) { nodes { sku } } }');
      assert.deepEqual(answer.data.inventoryItems.nodes.map((n: any) => n.sku), ['SKU-0000001', 'SKU-0000002', 'SKU-0000003', 'SKU-0000004', 'SKU-0000005']);
      assert.deepEqual(answer.extensions.cost.throttleStatus.maximumAvailable, 50);
      assert.deepEqual(answer.extensions.cost.throttleStatus.restoreRate, 10);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });

  it('takes --scopes (a missing scope is ACCESS_DENIED) and --idempotency-ttl-s 0 (a retried key runs again)', async () => {
    const { child, url, exited } = await spawnEmulator(['--seed', 'fixtures/demo/shop.json', '--scopes', 'read_inventory,write_inventory', '--idempotency-ttl-s', '0']);
    try {
      const scopes = await post(url, '{ currentAppInstallation { accessScopes { handle } } }');
      assert.deepEqual(scopes.data.currentAppInstallation.accessScopes, [{ handle: 'read_inventory' }, { handle: 'write_inventory' }]);
      const denied = await post(url, '{ locations(first: 5) { nodes { id } } }');
      assert.equal(denied.errors[0].extensions.code, 'ACCESS_DENIED');
      const set = 'mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: "e2e-ttl") { userErrors { code } } }';
      const input = { reason: 'correction', name: 'available', quantities: [{ inventoryItemId: 'gid://shopify/InventoryItem/101', locationId: 'gid://shopify/Location/1', quantity: 6, changeFromQuantity: 5 }] };
      assert.deepEqual((await post(url, set, { input })).data.inventorySetQuantities.userErrors, []);
      assert.deepEqual((await post(url, set, { input })).data.inventorySetQuantities.userErrors, [{ code: 'CHANGE_FROM_QUANTITY_STALE' }]);
      const counters = (await (await fetch(`${url}/_emulator/counters`)).json()) as any;
      assert.equal(counters.idempotentReplays, 0);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('exits 1 with a clear message on bad usage', async () => {
    const noSeed = await runCli(['emulator']);
    assert.equal(noSeed.code, 1);
    assert.match(noSeed.stderr, /give --seed FILE/);
    const badRate = await runCli(['emulator', '--seed', 'fixtures/demo/shop.json', '--error-rate', '2']);
    assert.equal(badRate.code, 1);
    assert.match(badRate.stderr, /--error-rate: expected a number between 0 and 1/);
    const badHost = await runCli(['emulator', '--seed', 'fixtures/demo/shop.json', '--host', '0.0.0.0']);
    assert.equal(badHost.code, 1);
    assert.match(badHost.stderr, /loopback/);
    const missingFile = await runCli(['emulator', '--seed', 'no/such/seed.json']);
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, /cannot read emulator seed no\/such\/seed\.json/);
    const badScopes = await runCli(['emulator', '--seed', 'fixtures/demo/shop.json', '--scopes', 'read_inventory,everything']);
    assert.equal(badScopes.code, 1);
    assert.match(badScopes.stderr, /--scopes: "everything" is not an access scope/);
    const badTtl = await runCli(['emulator', '--seed', 'fixtures/demo/shop.json', '--idempotency-ttl-s', '-1']);
    assert.equal(badTtl.code, 1);
    assert.match(badTtl.stderr, /--idempotency-ttl-s: expected a number/);
    assert.equal(noSeed.stdout + badRate.stdout + badScopes.stdout + badTtl.stdout, '');
  });
});
