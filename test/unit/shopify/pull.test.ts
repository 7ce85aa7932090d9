import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SourceError, UsageError } from '../../../src/errors.js';
import { createShopifyClient } from '../../../src/sources/shopify/client.js';
import { chooseMode, pullShopify, type PullMode } from '../../../src/sources/shopify/pull.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { tempDir } from '../../helpers/cli.js';
import { TEST_TOKEN as TOKEN } from '../../helpers/cli.js';
import { testConfig } from './scripted-fetch.js';
import { fakeShop, sampleShop, type FakeShopData, type FakeShopOptions } from './fake-shop.js';

const workspace = tempDir();
after(() => workspace.cleanup());
let dbNo = 0;

async function pull(shop: FakeShopData, mode: PullMode, shopOptions: FakeShopOptions = {}, bulkThreshold?: number) {
  const db = openDb(join(workspace.dir, `pull-${++dbNo}.db`));
  const config = testConfig(bulkThreshold === undefined ? {} : { bulkThreshold });
  const fake = fakeShop(shop, shopOptions);
  const sleep = async () => undefined;
  const client = createShopifyClient(config, {
    env: { SHOPIFY_ADMIN_TOKEN: TOKEN, INVRECON_SHOPIFY_ENDPOINT: 'http://127.0.0.1:9' },
    fetch: fake.fetch,
    sleep,
  });
  const result = pullShopify(db, config, { mode, client, sleep });
  return { db, result, calls: fake.calls };
}

function levelsOf(db: Db, snapshotId: number) {
  return db
    .prepare(
      'SELECT inventory_item_id AS item, location_id AS location, sku, available, on_hand, committed FROM shopify_levels WHERE snapshot_id = ? ORDER BY 1, 2',
    )
    .all(snapshotId);
}

function expectedLevels(shop: FakeShopData) {
  return shop.items
    .flatMap((item) =>
      item.levels.map((l) => ({
        item: item.id,
        location: l.locationId,
        sku: item.sku || null,
        available: l.available,
        on_hand: l.on_hand,
        committed: l.committed ?? 0,
      })),
    )
    .sort((a, b) => (a.item + a.location < b.item + b.location ? -1 : 1));
}

describe('pull shopify (against a scripted Shopify)', () => {
  const shop = sampleShop();

  for (const mode of ['paged', 'bulk'] as const) {
    it(`${mode}: stores every location, item and level, reporting SKU-less and shared SKUs`, async () => {
      const { db, result } = await pull(shop, mode, { bulkOrder: 'children-first' });
      const r = await result;
      assert.equal(r.mode, mode);
      assert.equal(r.locations, 3);
      assert.equal(r.items, 7);
      assert.deepEqual(levelsOf(db, r.snapshot.id), expectedLevels(shop));
      assert.equal(r.rows, expectedLevels(shop).length);
      assert.deepEqual(r.skus.withoutSku, { count: 2, inventoryItemIds: ['gid://shopify/InventoryItem/103', 'gid://shopify/InventoryItem/105'] });
      assert.deepEqual(r.skus.shared.skus, [{ sku: 'SKU-2', inventoryItemIds: ['gid://shopify/InventoryItem/102', 'gid://shopify/InventoryItem/106'] }]);
      assert.ok(r.warnings.some((w) => /2 inventory items have no SKU/.test(w)));
      assert.ok(r.warnings.some((w) => /SKU "SKU-2" is shared by 2 inventory items/.test(w)));
      const items = db.prepare('SELECT count(*) FROM shopify_items WHERE snapshot_id = ?').pluck().get(r.snapshot.id);
      assert.equal(items, 7, 'SKU-less items are stored too');
      db.close();
    });
  }

  it('paged and bulk give the same content hash, whatever order the bulk lines come in', async () => {
    const hashes = new Set<string>();
    for (const [mode, order] of [
      ['paged', undefined],
      ['bulk', 'parent-first'],
      ['bulk', 'children-first'],
    ] as const) {
      const { db, result } = await pull(shop, mode, { bulkOrder: order });
      hashes.add((await result).snapshot.contentHash);
      db.close();
    }
    assert.equal(hashes.size, 1);
  });

  it('reads the rest of the levels of an item stocked at more locations than a page holds', async () => {
    // Two locations listed but an item stocked at three (one inactive): the page asks for 2 levels per item.
    const data: FakeShopData = {
      locations: shop.locations.slice(0, 2),
      items: [{ id: 'gid://shopify/InventoryItem/1', sku: 'A', levels: shop.locations.map((l, i) => ({ locationId: l.id, available: i, on_hand: i })) }],
    };
    const { db, result, calls } = await pull(data, 'paged');
    const r = await result;
    assert.equal(r.rows, 3);
    assert.ok(calls.some((c) => c.operation === 'InventoryItemLevelsPage'));
    assert.ok(r.warnings.some((w) => /1 level\(s\) are at locations the locations query did not list/.test(w)));
    db.close();
  });

  it('sizes pages to the cost limit, shrinking after MAX_COST_EXCEEDED', async () => {
    const { db, result, calls } = await pull(shop, 'paged', { maxCost: 30 });
    const r = await result;
    assert.deepEqual(levelsOf(db, r.snapshot.id), expectedLevels(shop));
    const pages = calls.filter((c) => c.operation === 'InventoryItemsPage');
    assert.ok(pages.every((c) => 2 + Number(c.variables.first) * (3 + 3 * Number(c.variables.levelsFirst)) <= 30));
    db.close();
  });

  for (const countVariants of [true, false]) {
    const how = countVariants ? 'productVariantsCount' : 'item ids';
    it(`auto mode counts items by ${how} and goes bulk above shopify.bulkThreshold`, async () => {
      const { db, result, calls } = await pull(shop, 'auto', { countVariants }, 2);
      const r = await result;
      assert.equal(r.mode, 'bulk');
      assert.match(
        r.modeReason,
        new RegExp(
          `^more than 2 inventory items: a paged read is expected to beat a bulk operation up to 2 items .*shopify.bulkThreshold caps it at 2.*counted by ${how}$`,
        ),
      );
      assert.ok(!calls.some((c) => c.operation === 'InventoryItemsPage'), 'no levels read page by page');
      // The id walk stops as soon as the threshold is passed.
      const counted = calls.filter((c) => c.operation === 'InventoryItemIdsPage').reduce((n, c) => n + Number(c.variables.first), 0);
      assert.equal(counted, countVariants ? 0 : 3);
      assert.deepEqual(levelsOf(db, r.snapshot.id), expectedLevels(shop));
      db.close();
    });

    it(`auto mode stays paged at or under the threshold (${how})`, async () => {
      const { db, result } = await pull(shop, 'auto', { countVariants }, 7);
      const r = await result;
      assert.equal(r.mode, 'paged');
      assert.match(r.modeReason, new RegExp(`^7 inventory items: a paged read is expected to beat a bulk operation up to 7 items .*counted by ${how}$`));
      assert.deepEqual(levelsOf(db, r.snapshot.id), expectedLevels(shop));
      db.close();
    });
  }

  it("asks for the installs' record of applies, and goes on without it when it cannot be read", async () => {
    const { db, result, calls } = await pull(shop, 'paged');
    const r = await result;
    assert.equal(r.items, 7);
    assert.ok(calls.some((c) => c.operation === 'ShopAppliesRecord'));
    assert.equal(db.prepare('SELECT count(*) FROM shop_records').pluck().get(), 0, 'the scripted shop refused the query: no copy');
    db.close();
  });

  it('writes nothing when the pull fails midway', async () => {
    const { db, result } = await pull(sampleShop(40), 'paged', { maxCost: 60, failCall: 4 });
    await assert.rejects(result, (error: unknown) => error instanceof SourceError && /INTERNAL_SERVER_ERROR/.test(error.message));
    for (const table of ['snapshots', 'shopify_locations', 'shopify_items', 'shopify_levels']) {
      assert.equal(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get(), 0, table);
    }
    db.close();
  });

  it('adopts its own bulk query when a retried start finds it running', async () => {
    const { db, result, calls } = await pull(shop, 'bulk', { bulkAlreadyRunning: 'same-query' });
    const r = await result;
    assert.equal(r.bulkOperationId, 'gid://shopify/BulkOperation/1');
    assert.deepEqual(levelsOf(db, r.snapshot.id), expectedLevels(shop));
    assert.ok(calls.some((c) => c.operation === 'CurrentBulkOperation'));
    db.close();
  });

  it("refuses to wait on someone else's bulk query, and says so", async () => {
    const { db, result } = await pull(shop, 'bulk', { bulkAlreadyRunning: 'other-query' });
    await assert.rejects(result, /another bulk query \(gid:\/\/shopify\/BulkOperation\/1\) is running on this shop/);
    assert.equal(db.prepare('SELECT count(*) FROM snapshots').pluck().get(), 0);
    db.close();
  });

  it('--bulk and --paged together is a usage error', () => {
    assert.throws(() => chooseMode({ bulk: true, paged: true }), UsageError);
    assert.equal(chooseMode({}), 'auto');
    assert.equal(chooseMode({ paged: true }), 'paged');
  });
});

describe('snapshot hashing', () => {
  it('hashLevels reads in pages and gives exactly hashRows over the levels in key order', async () => {
    const { hashLevels, SHOPIFY_LEVELS_IN_KEY_ORDER } = await import('../../../src/store/shopify-snapshots.js');
    const { hashRows } = await import('../../../src/store/snapshots.js');
    const { db, result } = await pull(sampleShop(30), 'bulk', { bulkOrder: 'children-first' });
    const id = (await result).snapshot.id;
    assert.equal(hashLevels(db, id, 7), hashRows(db, SHOPIFY_LEVELS_IN_KEY_ORDER, id));
    db.close();
  });
});
