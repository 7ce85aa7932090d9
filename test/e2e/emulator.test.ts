import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** Sets available of item 101 at location 1 under an idempotency key; returns the user error codes. */
async function setItem101(url: string, key: string, quantity: number, changeFromQuantity: number): Promise<string[]> {
  const answer = await post(
    url,
    'mutation($input: InventorySetQuantitiesInput!, $key: String!) { inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { code } } }',
    {
      key,
      input: {
        reason: 'correction',
        name: 'available',
        quantities: [{ inventoryItemId: 'gid://shopify/InventoryItem/101', locationId: 'gid://shopify/Location/1', quantity, changeFromQuantity }],
      },
    },
  );
  return answer.data.inventorySetQuantities.userErrors.map((error: { code: string }) => error.code);
}

describe('invrecon emulator (spawned)', () => {
  it('prints its base URL first, serves the seed, records changes, and stops on SIGTERM', async () => {
    const { child, url, stderr, exited } = await spawnEmulator(['--port', '0', '--seed', 'fixtures/demo/shop.json']);
    try {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const read = await post(
        url,
        '{ inventoryItems(first: 10, query: "sku:TEE-RED-M") { nodes { sku inventoryLevel(locationId: "gid://shopify/Location/1") { quantities(names: ["available", "on_hand"]) { name quantity } } } } }',
      );
      assert.deepEqual(read.data.inventoryItems.nodes, [
        {
          sku: 'TEE-RED-M',
          inventoryLevel: {
            quantities: [
              { name: 'available', quantity: 5 },
              { name: 'on_hand', quantity: 7 },
            ],
          },
        },
      ]);
      assert.ok(read.extensions.cost.throttleStatus.maximumAvailable === 2000);
      assert.deepEqual(await setItem101(url, 'e2e-1', 6, 5), []);
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
      assert.deepEqual(
        answer.data.inventoryItems.nodes.map((n: any) => n.sku),
        ['SKU-0000001', 'SKU-0000002', 'SKU-0000003', 'SKU-0000004', 'SKU-0000005'],
      );
      assert.deepEqual(answer.extensions.cost.throttleStatus.maximumAvailable, 50);
      assert.deepEqual(answer.extensions.cost.throttleStatus.restoreRate, 10);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });

  it('takes --scopes (a missing scope is ACCESS_DENIED) and --idempotency-ttl-s 0 (a retried key runs again)', async () => {
    const { child, url, exited } = await spawnEmulator([
      '--seed',
      'fixtures/demo/shop.json',
      '--scopes',
      'read_inventory,write_inventory',
      '--idempotency-ttl-s',
      '0',
    ]);
    try {
      const scopes = await post(url, '{ currentAppInstallation { accessScopes { handle } } }');
      assert.deepEqual(scopes.data.currentAppInstallation.accessScopes, [{ handle: 'read_inventory' }, { handle: 'write_inventory' }]);
      const denied = await post(url, '{ locations(first: 5) { nodes { id } } }');
      assert.equal(denied.errors[0].extensions.code, 'ACCESS_DENIED');
      assert.deepEqual(await setItem101(url, 'e2e-ttl', 6, 5), []);
      assert.deepEqual(await setItem101(url, 'e2e-ttl', 6, 5), ['CHANGE_FROM_QUANTITY_STALE']);
      const counters = (await (await fetch(`${url}/_emulator/counters`)).json()) as any;
      assert.equal(counters.idempotentReplays, 0);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('posts signed inventory_levels/update webhooks to --webhook-url, retrying a failed delivery', async () => {
    const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    let failFirst = true;
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(failFirst ? 502 : 200);
        failFirst = false;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/shopify`;
    const { child, url, stderr, exited } = await spawnEmulator([
      '--seed',
      'fixtures/demo/shop.json',
      '--webhook-url',
      hookUrl,
      '--webhook-secret',
      'e2e-secret',
      '--webhook-backoff-ms',
      '50',
    ]);
    try {
      assert.deepEqual(await setItem101(url, 'e2e-hook', 3, 5), []);
      let counters: any;
      for (let attempt = 0; attempt < 400; attempt++) {
        counters = (await (await fetch(`${url}/_emulator/counters`)).json()) as any;
        if (counters.webhooks.delivered + counters.webhooks.failed >= 1) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.deepEqual(counters.webhooks, { created: 1, attempts: 2, delivered: 1, retries: 1, duplicates: 0, failed: 0 });
      assert.equal(received.length, 2);
      const [first, second] = received;
      assert.equal(first!.headers['x-shopify-webhook-id'], second!.headers['x-shopify-webhook-id']);
      assert.equal(second!.headers['x-shopify-hmac-sha256'], createHmac('sha256', 'e2e-secret').update(second!.body).digest('base64'));
      assert.deepEqual(JSON.parse(second!.body).available, 3);
      assert.match(stderr(), /posting inventory_levels\/update webhooks to http:\/\/127\.0\.0\.1/);
    } finally {
      child.kill('SIGTERM');
      receiver.close();
    }
    assert.equal(await exited, 0);
  });

  it('takes --late-error-rate: the write runs, the answer is a 502/504', async () => {
    const { child, url, exited } = await spawnEmulator(['--seed', 'fixtures/demo/shop.json', '--late-error-rate', '1']);
    try {
      const response = await fetch(`${url}/admin/api/2026-10/graphql.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shopify-access-token': 'e2e-token' },
        body: JSON.stringify({
          query:
            'mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: "e2e-late") { userErrors { code } } }',
          variables: {
            input: {
              reason: 'correction',
              name: 'available',
              quantities: [{ inventoryItemId: 'gid://shopify/InventoryItem/101', locationId: 'gid://shopify/Location/1', quantity: 2, changeFromQuantity: 5 }],
            },
          },
        }),
      });
      assert.ok([502, 504].includes(response.status));
      const state = (await (await fetch(`${url}/_emulator/state?sku=TEE-RED-M&locationId=gid://shopify/Location/1`)).json()) as any;
      assert.equal(state.levels[0].quantities.available, 2);
      assert.equal(state.counters.faults.lateErrors, 1);
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
    const lostTooOften = await runCli(['emulator', '--seed', 'fixtures/demo/shop.json', '--drop-rate', '0.6', '--late-error-rate', '0.5']);
    assert.equal(lostTooOften.code, 1);
    assert.match(lostTooOften.stderr, /--drop-rate and --late-error-rate add up to more than 1/);
    const noSecret = await runCli(['emulator', '--seed', 'fixtures/demo/shop.json', '--webhook-url', 'http://127.0.0.1:9/hook']);
    assert.equal(noSecret.code, 1);
    assert.match(noSecret.stderr, /--webhook-url needs --webhook-secret/);
    const badDuplicates = await runCli([
      'emulator',
      '--seed',
      'fixtures/demo/shop.json',
      '--webhook-url',
      'http://127.0.0.1:9/hook',
      '--webhook-secret',
      's',
      '--webhook-duplicate-rate',
      '1.5',
    ]);
    assert.equal(badDuplicates.code, 1);
    assert.match(badDuplicates.stderr, /--webhook-duplicate-rate: expected a number between 0 and 1/);
    assert.equal(noSeed.stdout + badRate.stdout + badScopes.stdout + badTtl.stdout + noSecret.stdout + badDuplicates.stdout, '');
  });
});
