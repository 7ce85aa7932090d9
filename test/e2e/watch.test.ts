import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { TEST_TOKEN, openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';
import { health, postRows, postWebhook, settled, sign, spawnWatch, WATCH_TOKEN, type WatchProcess } from './watch-helpers.js';

// The demo shop: TEE-RED-M and MUG-WHT make GIFT-SET (1 + 2); POS-BAG is Shopify's (category pos-only).
const L1 = 'gid://shopify/Location/1';
const ITEM = {
  tee: 'gid://shopify/InventoryItem/101',
  mug: 'gid://shopify/InventoryItem/104',
  bag: 'gid://shopify/InventoryItem/106',
  gift: 'gid://shopify/InventoryItem/107',
};

function dbOf(dir: string): Database.Database {
  return new Database(join(dir, '.invrecon', 'snapshot.db'), { readonly: true });
}

describe('invrecon watch (spawned against the emulator, demo shop)', () => {
  let shop: ShopWorkspace;
  let watch: WatchProcess;

  before(async () => {
    const seed = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'demo', 'shop.json'), 'utf8'));
    shop = await openShopWorkspace({ seed, demo: true });
    // Start from a reconciled shop: the batch sync sets every level once, then watch takes over.
    const synced = await shop.cli(['sync', '--commit']);
    assert.ok(synced.code === 0 || synced.code === 3, synced.stderr);
    assert.equal((await shop.cli(['pull', 'shopify'])).code, 0);
    watch = await spawnWatch(shop.dir, { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url }, [
      '--port',
      '0',
      '--log-format',
      'json',
    ]);
  });

  after(async () => {
    const code = await watch?.stop();
    await shop?.close();
    assert.equal(code, 0, watch?.stderr());
  });

  it('prints its base URL first and answers /healthz and /metrics', async () => {
    assert.match(watch.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const h = await health(watch.url);
    assert.equal(h.ok, true);
    assert.equal(h.queueDepth, 0);
    const metrics = await (await fetch(`${watch.url}/metrics`)).text();
    for (const name of ['invrecon_watch_events_total', 'invrecon_watch_queue_depth', 'invrecon_watch_writes_total', 'invrecon_watch_latency_seconds']) {
      assert.ok(metrics.includes(`# TYPE ${name}`), `${name} missing from /metrics`);
    }
  });

  it('refuses requests without the right token (401), a bad body (400, nothing stored) and a bad signature (401)', async () => {
    const db = dbOf(shop.dir);
    const events = () => db.prepare('SELECT COUNT(*) FROM watch_events').pluck().get();
    const tee = () => db.prepare("SELECT on_hand FROM watch_erp_levels WHERE sku = 'TEE-RED-M' AND warehouse = 'WH-A'").pluck().get();
    try {
      const before = { events: events(), tee: tee() };
      const good = [{ sku: 'TEE-RED-M', warehouse: 'WH-A', on_hand: 77, reserved: 0 }];
      assert.equal((await postRows(watch.url, good, null)).status, 401);
      assert.equal((await postRows(watch.url, good, 'wrong-token')).status, 401);

      // One good row and one bad: nothing of the body is stored.
      const bad = await postRows(watch.url, [...good, { sku: 'MUG-WHT', warehouse: 'WH-A', on_hand: 'ten', reserved: 0 }]);
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.errors, [{ index: 1, field: 'on_hand', message: 'on_hand expected a whole number, got "ten"' }]);
      const missing = await postRows(watch.url, [{ sku: '', warehouse: 'WH-A', on_hand: 1, reserved: 0, color: 'red' }]);
      assert.equal(missing.status, 400);
      assert.deepEqual(
        missing.body.errors.map((e: { index: number; field: string }) => `${e.index}:${e.field}`),
        ['0:color', '0:sku'],
      );
      assert.equal((await postRows(watch.url, '{"not": "an array"}')).status, 400);
      assert.equal((await postRows(watch.url, 'not json')).status, 400);

      const payload = { inventory_item_id: 101, location_id: 1, available: 3, updated_at: new Date().toISOString() };
      assert.equal((await postWebhook(watch.url, payload, { signature: sign(JSON.stringify(payload), 'not-the-secret') })).status, 401);
      assert.equal((await postWebhook(watch.url, payload, { signature: '' })).status, 401);

      assert.deepEqual({ events: events(), tee: tee() }, before);
      assert.ok(!watch.stderr().includes(WATCH_TOKEN), 'the watch token must not be logged');
    } finally {
      db.close();
    }
  });

  it('a component event moves the bundle in the same write', async () => {
    const giftBefore = shop.emulator.state.level(ITEM.gift, L1)!.available;
    // MUG-WHT pools WH-A and WH-A2 at Main Warehouse; GIFT-SET = min(TEE-RED-M, MUG-WHT / 2).
    const accepted = await postRows(watch.url, [
      { sku: 'MUG-WHT', warehouse: 'WH-A', on_hand: 6, reserved: 0 },
      { sku: 'TEE-RED-M', warehouse: 'WH-A', on_hand: 40, reserved: 0 },
    ]);
    assert.equal(accepted.status, 202);
    assert.deepEqual(accepted.body, { accepted: 2 });
    assert.ok(await settled(watch.url, 120_000), 'the queue did not drain');
    // MUG-WHT: 6 − 2 (bySku safety) = 4 at Main Warehouse; the gift set: min(45, floor(4 / 2)) = 2.
    assert.equal(shop.emulator.state.level(ITEM.mug, L1)!.available, 4);
    assert.equal(shop.emulator.state.level(ITEM.gift, L1)!.available, 2);
    assert.notEqual(giftBefore, 2);
    const db = dbOf(shop.dir);
    try {
      const writes = (db.prepare("SELECT rows FROM watch_writes WHERE status = 'done' ORDER BY id").pluck().all() as string[]).map(
        (r) => (JSON.parse(r) as { levels: { sku: string; locationId: string }[] }).levels,
      );
      const giftWrite = writes.find((rows) => rows.some((r) => r.sku === 'GIFT-SET' && r.locationId === L1));
      assert.ok(giftWrite, 'no write moved GIFT-SET');
      assert.ok(
        giftWrite.some((r) => r.sku === 'MUG-WHT'),
        'the bundle moved in another write than its component',
      );
    } finally {
      db.close();
    }
  });

  it('takes Shopify webhooks: duplicates, out-of-order deliveries and its own echoes are ignored', async () => {
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    // POS-BAG is Shopify-authoritative: a sale there is taken as the truth, and the ERP owes a correction.
    const bag = shop.emulator.state.sell(ITEM.bag, 'gid://shopify/Location/2', 3);
    const sale = { inventory_item_id: 106, location_id: 2, available: bag.available, updated_at: at(0) };
    assert.deepEqual((await postWebhook(watch.url, sale, { id: 'sale-1' })).body, { outcome: 'accepted' });
    assert.deepEqual((await postWebhook(watch.url, sale, { id: 'sale-1' })).body, { outcome: 'duplicate' });
    const older = { ...sale, available: bag.available + 3, updated_at: at(-60_000) };
    assert.deepEqual((await postWebhook(watch.url, older, { id: 'sale-0' })).body, { outcome: 'out-of-order' });
    assert.ok(await settled(watch.url, 120_000));

    // The echo of a write of ours: the value watch set on MUG-WHT comes back and is not taken as a sale.
    const mug = shop.emulator.state.level(ITEM.mug, L1)!.available;
    const echo = { inventory_item_id: 104, location_id: 1, available: mug, updated_at: at(1000) };
    assert.deepEqual((await postWebhook(watch.url, echo, { id: 'echo-1' })).body, { outcome: 'echo' });

    // The outbox: a CSV for the ERP, written at SIGTERM at the latest (checked in `after` via stop()).
    const db = dbOf(shop.dir);
    try {
      const owed = db.prepare("SELECT sku, warehouse, delta FROM watch_outbox WHERE sku = 'POS-BAG'").all();
      assert.deepEqual(owed, [{ sku: 'POS-BAG', warehouse: 'STORE-1', delta: bag.available - 39 }]);
    } finally {
      db.close();
    }
  });

  it('a sync that finds a watch write in flight waits, naming watch as the holder, and runs once the write is answered', async () => {
    const until = async (done: () => boolean, what: string) => {
      for (const deadline = Date.now() + 60_000; !done(); await new Promise((resolve) => setTimeout(resolve, 50)))
        if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    };
    const lockRow = (name: string) => {
      const db = dbOf(shop.dir);
      try {
        return db.prepare('SELECT pid FROM locks WHERE name = ?').get(name) as { pid: number } | undefined;
      } finally {
        db.close();
      }
    };
    // Slow answers keep watch's write in flight, holding the lock.
    shop.emulator.state.setFaults({ latencyMs: 8000 });
    try {
      assert.equal((await postRows(watch.url, [{ sku: 'TEE-BLU-M', warehouse: 'WH-A', on_hand: 33, reserved: 0 }])).status, 202);
      await until(() => lockRow('sync')?.pid === watch.child.pid, "watch's write holding the lock");
      const syncing = shop.cli(['sync', '--format', 'json', '--lock-wait', '120']);
      // The sync marks itself waiting; Shopify answers at full speed again for its own pull.
      await until(() => lockRow('sync-waiting') !== undefined, 'the sync marked as waiting');
      shop.emulator.state.setFaults({ latencyMs: 0 });
      const synced = await syncing;
      assert.equal(synced.code, 0, synced.stderr);
      assert.match(synced.stderr, new RegExp(`warning: waiting up to 120 s for the sync lock, held by ${watch.child.pid}@\\S+ since `));
      assert.ok(['ok', 'drift'].includes(JSON.parse(synced.stdout).outcome));
      assert.equal(lockRow('sync-waiting'), undefined);
      assert.ok(await settled(watch.url, 120_000), 'the queue did not drain');
      // Watch's write went through after the wait: the level is what it set.
      const db = dbOf(shop.dir);
      try {
        const levels = (db.prepare("SELECT rows FROM watch_writes WHERE status = 'done' ORDER BY id").pluck().all() as string[]).flatMap(
          (r) => (JSON.parse(r) as { levels: { sku: string; locationId: string; to: number }[] }).levels,
        );
        const blue = levels.filter((l) => l.sku === 'TEE-BLU-M' && l.locationId === L1).at(-1);
        assert.ok(blue, 'no write set TEE-BLU-M');
        assert.notEqual(blue.to, 12);
        assert.equal(shop.emulator.state.level('gid://shopify/InventoryItem/103', L1)?.available, blue.to);
      } finally {
        db.close();
      }
    } finally {
      shop.emulator.state.setFaults({ latencyMs: 0 });
    }
  });

  it('status shows the watch figures while it runs, and the outbox is written on SIGTERM', async () => {
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the figures are refreshed every 2 s
    const status = await shop.cli(['status', '--format', 'json']);
    assert.equal(status.code, 0, status.stderr);
    const watchFigures = JSON.parse(status.stdout).watch;
    assert.equal(watchFigures.running, true);
    assert.ok(watchFigures.writes.applied >= 2);
    assert.equal(typeof watchFigures.latency.p95, 'number');

    const code = await watch.stop();
    assert.equal(code, 0, watch.stderr());
    const files = readdirSync(join(shop.dir, '.invrecon', 'outbox'));
    assert.equal(files.length, 1);
    const csv = readFileSync(join(shop.dir, '.invrecon', 'outbox', files[0]!), 'utf8');
    assert.match(csv, /^id,created_at,sku,warehouse,location_name,location_id,current,proposed,delta,authority,reason\n/);
    assert.match(csv, /POS-BAG,STORE-1,Downtown Store/);
    // A log line per write, as JSON.
    assert.ok(
      watch
        .stderr()
        .split('\n')
        .some((line) => line.startsWith('{') && JSON.parse(line).event === 'write'),
    );
    // Restarted for `after`.
    watch = await spawnWatch(shop.dir, { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url }, ['--port', '0']);
  });
});
