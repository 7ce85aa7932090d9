import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { WebhookOptions } from '../../../src/emulator/index.js';
import { ADJUST_MUTATION, freshKey, gql, ITEM_101, ITEM_102, LOC_1, SET_MUTATION, setInput, startDemo } from './helpers.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver that answers each request with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = []): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statuses.shift() ?? 200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks/shopify`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const SECRET = 'shpss_test_secret';

function options(url: string, extra: Partial<WebhookOptions> = {}): WebhookOptions {
  return { url, secret: SECRET, backoffMs: 10, maxJitterMs: 5, ...extra };
}

const setRow = (inventoryItemId: string, quantity: number) => setInput([{ inventoryItemId, locationId: LOC_1, quantity, changeFromQuantity: null }]);

describe('emulator webhooks (inventory_levels/update)', () => {
  it('posts one signed webhook per change of available, with Shopify headers and payload', async () => {
    const hook = await receiver();
    const emulator = await startDemo({ webhooks: options(hook.url) });
    try {
      await gql(emulator, SET_MUTATION, { key: freshKey(), input: setRow(ITEM_101, 9) });
      // reserved moves on_hand only: no change of available, no webhook; a set to the current value neither.
      await gql(emulator, ADJUST_MUTATION, {
        key: freshKey(),
        input: {
          reason: 'correction',
          name: 'reserved',
          changes: [{ inventoryItemId: ITEM_102, locationId: LOC_1, delta: 1, changeFromQuantity: null, ledgerDocumentUri: 'app://doc/1' }],
        },
      });
      await gql(emulator, SET_MUTATION, { key: freshKey(), input: setRow(ITEM_102, 8) });
      emulator.state.sell(ITEM_101, LOC_1, 2);
      await emulator.state.webhooksIdle();
      assert.equal(hook.received.length, 2);
      const payloads = hook.received.map((r) => JSON.parse(r.body));
      assert.deepEqual(payloads.map((p) => p.available).sort(), [7, 9]);
      for (const { headers, body } of hook.received) {
        assert.equal(headers['x-shopify-topic'], 'inventory_levels/update');
        assert.equal(headers['x-shopify-hmac-sha256'], createHmac('sha256', SECRET).update(body).digest('base64'));
        assert.equal(headers['x-shopify-shop-domain'], 'emulated-shop.myshopify.com');
        assert.equal(headers['x-shopify-api-version'], '2026-04');
        assert.match(String(headers['x-shopify-webhook-id']), /^[0-9a-f-]{36}$/);
        assert.match(String(headers['x-shopify-event-id']), /^[0-9a-f-]{36}$/);
        assert.equal(headers['content-type'], 'application/json');
        const payload = JSON.parse(body);
        assert.deepEqual(Object.keys(payload), ['inventory_item_id', 'location_id', 'available', 'updated_at', 'admin_graphql_api_id']);
        assert.equal(payload.inventory_item_id, 101);
        assert.equal(payload.location_id, 1);
        assert.equal(payload.updated_at, headers['x-shopify-triggered-at']);
        assert.match(payload.admin_graphql_api_id, /^gid:\/\/shopify\/InventoryLevel\/\d+\?inventory_item_id=101$/);
      }
      const ids = new Set(hook.received.map((r) => r.headers['x-shopify-webhook-id']));
      assert.equal(ids.size, 2);
      assert.deepEqual(emulator.state.counters.webhooks, { created: 2, attempts: 2, delivered: 2, retries: 0, duplicates: 0, failed: 0 });
    } finally {
      await emulator.close();
      await hook.close();
    }
  });

  it('retries a non-2xx answer with the same webhook id and body until delivered', async () => {
    const hook = await receiver([500, 503]);
    const emulator = await startDemo({ webhooks: options(hook.url, { maxAttempts: 5 }) });
    try {
      await gql(emulator, SET_MUTATION, { key: freshKey(), input: setRow(ITEM_101, 4) });
      await emulator.state.webhooksIdle();
      assert.equal(hook.received.length, 3);
      assert.equal(new Set(hook.received.map((r) => r.headers['x-shopify-webhook-id'])).size, 1);
      assert.equal(new Set(hook.received.map((r) => r.body)).size, 1);
      assert.deepEqual(emulator.state.counters.webhooks, { created: 1, attempts: 3, delivered: 1, retries: 2, duplicates: 0, failed: 0 });
    } finally {
      await emulator.close();
      await hook.close();
    }
  });

  it('gives up after maxAttempts on a receiver that is down, and never blocks the write', async () => {
    const hook = await receiver();
    await hook.close();
    const lines: string[] = [];
    const emulator = await startDemo({ webhooks: options(hook.url, { maxAttempts: 3 }), log: (line) => lines.push(line) });
    try {
      const answer = await gql(emulator, SET_MUTATION, { key: freshKey(), input: setRow(ITEM_101, 4) });
      assert.deepEqual(answer.body.data!.inventorySetQuantities.userErrors, []);
      await emulator.state.webhooksIdle();
      assert.deepEqual(emulator.state.counters.webhooks, { created: 1, attempts: 3, delivered: 0, retries: 2, duplicates: 0, failed: 1 });
      assert.match(lines.join('\n'), /given up after 3 attempts/);
    } finally {
      await emulator.close();
    }
  });

  it('sends duplicates (same webhook id) at --webhook-duplicate-rate', async () => {
    const hook = await receiver();
    const emulator = await startDemo({ webhooks: options(hook.url, { duplicateRate: 1 }) });
    try {
      await gql(emulator, SET_MUTATION, { key: freshKey(), input: setRow(ITEM_101, 4) });
      await gql(emulator, SET_MUTATION, { key: freshKey(), input: setRow(ITEM_102, 1) });
      await emulator.state.webhooksIdle();
      assert.equal(hook.received.length, 4);
      const byId = new Map<string, number>();
      for (const r of hook.received) byId.set(String(r.headers['x-shopify-webhook-id']), (byId.get(String(r.headers['x-shopify-webhook-id'])) ?? 0) + 1);
      assert.deepEqual([...byId.values()], [2, 2]);
      assert.equal(emulator.state.counters.webhooks.duplicates, 2);
    } finally {
      await emulator.close();
      await hook.close();
    }
  });

  it('refuses options it cannot honour', async () => {
    await assert.rejects(startDemo({ webhooks: { url: 'ftp://x', secret: 's' } }), /http/);
    await assert.rejects(startDemo({ webhooks: { url: 'http://127.0.0.1:1/', secret: '' } }), /secret is required/);
    await assert.rejects(startDemo({ webhooks: { url: 'http://127.0.0.1:1/', secret: 's', duplicateRate: 2 } }), /duplicateRate/);
  });
});
