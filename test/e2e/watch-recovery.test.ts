import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rng } from '../helpers/generate.js';
import { TEST_TOKEN, generateShop, generatedFiles, openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';
import { driveEvents, freePort, settled, spawnWatch, WEBHOOK_SECRET, type ErpRowBody, type WatchProcess } from './watch-helpers.js';

/** The final ERP state the events left, as the CSV export a batch pull reads. */
function writeFinalCsv(dir: string, state: Map<string, ErpRowBody>): void {
  const lines = ['sku,warehouse,on_hand,reserved', ...[...state.values()].map((r) => `${r.sku},${r.warehouse},${r.on_hand},${r.reserved}`)];
  writeFileSync(join(dir, 'erp.csv'), lines.join('\n') + '\n');
}

/** Every write of an idempotency key moved each level at most once. */
function movedTwice(shop: ShopWorkspace): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const entry of shop.emulator.state.history) {
    if (!entry.idempotencyKey || entry.name !== 'available') continue;
    const key = `${entry.idempotencyKey} ${entry.inventoryItemId} ${entry.locationId}`;
    if (seen.has(key)) twice.push(key);
    seen.add(key);
  }
  return twice;
}

async function reconciledShop(
  items: number,
  extraConfig: Record<string, unknown> = {},
  emulator: Parameters<typeof openShopWorkspace>[0]['emulator'] = {},
): Promise<{ shop: ShopWorkspace; state: Map<string, ErpRowBody> }> {
  const generated = generateShop(items, 2, 21);
  Object.assign(generated.config, extraConfig);
  const shop = await openShopWorkspace({ seed: generated.seed, files: generatedFiles(generated), emulator });
  const synced = await shop.cli(['sync', '--commit']);
  assert.equal(synced.code, 0, synced.stderr);
  assert.equal((await shop.cli(['pull', 'shopify'])).code, 0);
  const state = new Map<string, ErpRowBody>();
  for (const line of generated.erpCsv.trim().split('\n').slice(1)) {
    const [sku, warehouse, onHand, reserved] = line.split(',');
    state.set(`${sku} ${warehouse}`, { sku: sku!, warehouse: warehouse!, on_hand: Number(onHand), reserved: Number(reserved) });
  }
  return { shop, state };
}

const cleanups: (() => void)[] = [];

/** 50 events/s for `seconds`, kill -9 halfway and a restart; then the batch path must find no drift. */
async function runScenario(
  shop: ShopWorkspace,
  state: Map<string, ErpRowBody>,
  seconds: number,
  env: Record<string, string>,
  port: string,
): Promise<WatchProcess> {
  const args = ['--port', port];
  let watch = await spawnWatch(shop.dir, env, args);
  // A failed assertion must not leave a watch behind (it would keep the test process alive).
  cleanups.push(() => watch.child.kill('SIGKILL'));
  const random = rng(3);
  const rows = [...state.values()];
  let killed = false;
  await driveEvents({
    url: () => watch.url,
    rate: 50,
    seconds,
    next: () => {
      const row = rows[Math.floor(random() * rows.length)]!;
      const next = { ...row, on_hand: Math.floor(random() * 80), reserved: Math.floor(random() * 5) };
      return next;
    },
    onAccepted: (row) => {
      state.set(`${row.sku} ${row.warehouse}`, row);
      const index = rows.findIndex((r) => r.sku === row.sku && r.warehouse === row.warehouse);
      rows[index] = row;
    },
    midway: async () => {
      await watch.kill();
      killed = true;
      watch = await spawnWatch(shop.dir, env, args);
    },
  });
  assert.ok(killed);
  // Not a timed assertion (bench/watch.ts measures the time): the bound only keeps a stuck queue from hanging the suite.
  assert.ok(await settled(watch.url, 180_000), `the queue did not drain: ${watch.stderr().slice(-2000)}`);
  return watch;
}

async function assertNoDrift(shop: ShopWorkspace, state: Map<string, ErpRowBody>): Promise<void> {
  writeFinalCsv(shop.dir, state);
  assert.equal((await shop.cli(['pull', 'erp'])).code, 0);
  assert.equal((await shop.cli(['pull', 'shopify'])).code, 0);
  const diff = await shop.cli(['diff', '--detailed-exitcode']);
  assert.equal(diff.code, 0, `drift after watch:\n${diff.stdout}`);
}

describe('invrecon watch under load, killed and restarted', () => {
  it('50 events/s for 20 s with a kill -9 halfway: nothing lost, nothing applied twice, no drift once the events stop', async () => {
    const { shop, state } = await reconciledShop(150);
    shop.emulator.state.setFaults({ latencyMs: 100 });
    try {
      const env = { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url };
      const watch = await runScenario(shop, state, 20, env, String(await freePort()));
      assert.deepEqual(movedTwice(shop), []);
      assert.equal(await watch.stop(), 0, watch.stderr());
      shop.emulator.state.setFaults({ latencyMs: 0 });
      await assertNoDrift(shop, state);
    } finally {
      for (const cleanup of cleanups.splice(0)) cleanup();
      await shop.close();
    }
  });

  it('the same with sales in Shopify and its webhooks on (duplicates too): no sale overwritten, no level moved twice', async () => {
    const port = String(await freePort());
    const webhooks = { url: `http://127.0.0.1:${port}/webhooks/shopify`, secret: WEBHOOK_SECRET, duplicateRate: 0.2, backoffMs: 200 };
    // Sales move available to committed; with committed subtracted, a sale is part of the target and is never written back.
    const { shop, state } = await reconciledShop(150, { shopifyCommitted: 'subtract' }, { webhooks, faults: { seed: 4 } });
    try {
      const env = { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url };
      const salesFrom = shop.emulator.state.history.length;
      shop.emulator.state.setFaults({ latencyMs: 100, salesPerSecond: 5 });
      const watch = await runScenario(shop, state, 10, env, port);
      shop.emulator.state.setFaults({ salesPerSecond: 0 });
      await shop.emulator.state.webhooksIdle();
      assert.ok(await settled(watch.url, 180_000), `the queue did not drain: ${watch.stderr().slice(-2000)}`);
      const sales = shop.emulator.state.history.slice(salesFrom).filter((e) => e.kind === 'sale' && e.name === 'available');
      assert.ok(sales.length >= 20, `expected sales during the run, got ${sales.length}`);
      assert.ok(shop.emulator.state.counters.webhooks.duplicates > 0);
      assert.deepEqual(movedTwice(shop), []);
      const metrics = await (await fetch(`${watch.url}/metrics`)).text();
      assert.match(metrics, /invrecon_watch_events_total\{kind="webhook",outcome="duplicate"\} [1-9]/);
      assert.match(metrics, /invrecon_watch_events_total\{kind="webhook",outcome="echo"\} [1-9]/);
      assert.equal(await watch.stop(), 0, watch.stderr());
      shop.emulator.state.setFaults({ latencyMs: 0 });
      // A sale written over would leave available above on hand − reserved − committed: drift.
      await assertNoDrift(shop, state);
    } finally {
      for (const cleanup of cleanups.splice(0)) cleanup();
      await shop.close();
    }
  });
});
