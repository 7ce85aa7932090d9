import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { percentile } from '../../../src/ops/watch/metrics.js';
import { bearerMatches, parseErpBody, parseLevelUpdate, verifyShopifyHmac } from '../../../src/ops/watch/server.js';
import { acceptLevelUpdate, seedFromSnapshots } from '../../../src/ops/watch/state.js';
import { ITEM, LOC, workspace } from '../reconcile/helpers.js';

describe('watch: POST /erp/levels bodies', () => {
  it('takes whole rows as the CSV does (reserved required, the rest optional)', () => {
    const { rows, errors } = parseErpBody(
      JSON.stringify([{ sku: ' TEE ', warehouse: 'A', on_hand: 5, reserved: '2', safety_stock: null, category: 'apparel' }]),
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(rows, [{ sku: 'TEE', warehouse: 'A', onHand: 5, reserved: 2, incoming: 0, safetyStock: null, category: 'apparel' }]);
  });

  it('reports every bad field by index and keeps no row of a bad body', () => {
    const body = [
      { sku: 'TEE', warehouse: 'A', on_hand: 5, reserved: 0 },
      { sku: 'TEE', warehouse: 'A', on_hand: 6, reserved: 0 },
      { sku: 'MUG', warehouse: '', on_hand: 1.5, reserved: -1 },
      { sku: 'CAP', warehouse: 'A', on_hand: 1 },
      { sku: 'BAG', warehouse: 'A', on_hand: [1], reserved: 0, qty: 3 },
      'not a row',
    ];
    const { rows, errors } = parseErpBody(JSON.stringify(body));
    assert.deepEqual(rows, []);
    assert.deepEqual(
      errors.map((e) => `${e.index}:${e.field}`),
      ['1:sku', '2:warehouse', '2:on_hand', '2:reserved', '3:reserved', '4:on_hand', '4:qty', '4:on_hand', '5:null'],
    );
    assert.match(errors[0]!.message, /also row 0/);
    assert.deepEqual(
      parseErpBody('{').errors.map((e) => e.index),
      [null],
    );
    assert.match(parseErpBody('{"a": 1}').errors[0]!.message, /JSON array/);
  });
});

describe('watch: Shopify webhooks', () => {
  it('verifies the base64 HMAC-SHA256 of the raw body', () => {
    const raw = Buffer.from('{"available":3}');
    const good = createHmac('sha256', 's3cret').update(raw).digest('base64');
    assert.equal(verifyShopifyHmac(raw, good, 's3cret'), true);
    assert.equal(verifyShopifyHmac(raw, good, 'other'), false);
    assert.equal(verifyShopifyHmac(Buffer.from('{"available":4}'), good, 's3cret'), false);
    assert.equal(verifyShopifyHmac(raw, undefined, 's3cret'), false);
    assert.equal(verifyShopifyHmac(raw, 'short', 's3cret'), false);
  });

  it('reads REST ids (numbers) or GraphQL ids', () => {
    assert.deepEqual(parseLevelUpdate('{"inventory_item_id": 101, "location_id": "2", "available": 4, "updated_at": "2026-01-02T03:04:05-05:00"}'), {
      inventoryItemId: ITEM(101),
      locationId: LOC(2),
      available: 4,
      updatedAt: '2026-01-02T03:04:05-05:00',
    });
    assert.deepEqual(parseLevelUpdate(`{"inventory_item_id": "${ITEM(7)}", "location_id": "${LOC(1)}", "available": 0}`), {
      inventoryItemId: ITEM(7),
      locationId: LOC(1),
      available: 0,
      updatedAt: null,
    });
    assert.deepEqual(parseLevelUpdate('{"inventory_item_id": 1, "location_id": 1, "available": "x"}'), { error: 'available: expected a whole number' });
    assert.deepEqual(parseLevelUpdate('{"location_id": 1, "available": 1}'), { error: 'inventory_item_id: expected an id' });
  });

  it('bearer tokens are compared whole', () => {
    assert.equal(bearerMatches('Bearer abc', 'abc'), true);
    assert.equal(bearerMatches('bearer abc', 'abc'), true);
    assert.equal(bearerMatches('Bearer ab', 'abc'), false);
    assert.equal(bearerMatches('abc', 'abc'), false);
    assert.equal(bearerMatches(undefined, 'abc'), false);
  });

  it('duplicates, older deliveries and echoes of its own writes do not move the live level; a sale does', () => {
    const w = workspace();
    try {
      w.erp([{ sku: 'TEE', wh: 'A', onHand: 10 }]);
      w.shopify({ locations: [{ id: LOC(1), name: 'Main' }], levels: [{ sku: 'TEE', item: ITEM(1), location: LOC(1), available: 10 }] });
      seedFromSnapshots(w.db);
      const marked: string[] = [];
      const echoes = new Set(['12']);
      const take = (id: string | null, available: number, updatedAt: string | null) =>
        acceptLevelUpdate(
          w.db,
          { webhookId: id, inventoryItemId: ITEM(1), locationId: LOC(1), available, updatedAt },
          '{}',
          (_i, _l, value) => echoes.delete(String(value)),
          (sku) => marked.push(sku),
        ).outcome;
      const live = () => w.db.prepare('SELECT available FROM watch_shopify_levels').pluck().get();
      assert.equal(take('w1', 9, '2026-01-01T10:00:01Z'), 'accepted');
      assert.equal(live(), 9);
      assert.equal(take('w1', 9, '2026-01-01T10:00:01Z'), 'duplicate');
      assert.equal(take('w0', 11, '2026-01-01T10:00:00Z'), 'out-of-order');
      assert.equal(live(), 9);
      // The echo of our write of 12 is a true reading of the level, but no sale: nothing is marked.
      assert.equal(take('w2', 12, '2026-01-01T10:00:02Z'), 'echo');
      assert.equal(live(), 12);
      assert.equal(take('w3', 12, '2026-01-01T10:00:03Z'), 'unchanged');
      assert.equal(take(null, 8, null), 'accepted');
      assert.equal(live(), 8);
      assert.deepEqual(marked, ['TEE', 'TEE']);
      assert.equal(
        acceptLevelUpdate(
          w.db,
          { webhookId: 'x', inventoryItemId: ITEM(99), locationId: LOC(1), available: 1, updatedAt: null },
          '{}',
          () => false,
          () => undefined,
        ).outcome,
        'unknown-level',
      );
      // A duplicate is answered but not stored again.
      assert.equal(w.db.prepare('SELECT COUNT(*) FROM watch_events').pluck().get(), 6);
    } finally {
      w.close();
    }
  });
});

describe('watch: latency percentiles', () => {
  it('nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 95), 95);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([7], 99), 7);
  });
});
