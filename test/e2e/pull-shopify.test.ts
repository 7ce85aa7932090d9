import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { demoDir, runCli, TEST_TOKEN as TOKEN, tempDir } from '../helpers/cli.js';
import { spawnEmulatorProcess } from '../helpers/emulator-process.js';

const seedPath = join(demoDir, 'shop.json');

interface Emulator {
  url: string;
  state(): Promise<any>;
  stop(): Promise<void>;
}

/** Spawns `invrecon emulator` on port 0 and waits for the base URL on its first stdout line. */
async function startEmulator(args: string[]): Promise<Emulator> {
  const emulator = await spawnEmulatorProcess(['--port', '0', '--token', TOKEN, ...args]);
  return { url: emulator.url, state: async () => (await fetch(`${emulator.url}/_emulator/state`)).json(), stop: async () => void (await emulator.stop()) };
}

function workspaceWithConfig(shopify: Record<string, unknown> = {}) {
  const workspace = tempDir('invrecon-pull-shopify-');
  writeFileSync(
    join(workspace.dir, 'invrecon.config.json'),
    JSON.stringify({
      shopify: { shop: 'demo-shop.myshopify.com', apiVersion: '2026-10', ...shopify },
      erp: { csv: { path: 'erp.csv' } },
      locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main Warehouse' }],
    }),
  );
  return workspace;
}

function pullShopify(dir: string, url: string, args: string[] = []) {
  return runCli(['pull', 'shopify', '--format', 'json', ...args], { cwd: dir, env: { SHOPIFY_ADMIN_TOKEN: TOKEN, INVRECON_SHOPIFY_ENDPOINT: url } });
}

interface SeedLevel {
  locationId: string;
  [quantity: string]: number | string;
}
interface Seed {
  locations: { id: string; name: string }[];
  items: { sku: string; inventoryItemId: string; levels: SeedLevel[] }[];
}

/** The snapshot's rows, in the shape of the seed file, for an exact comparison. */
function snapshotAsSeed(dir: string, snapshotId: number) {
  const db = new Database(join(dir, '.invrecon', 'snapshot.db'), { readonly: true });
  try {
    const locations = db.prepare('SELECT location_id AS id, name FROM shopify_locations WHERE snapshot_id = ? ORDER BY location_id').all(snapshotId);
    const items = db.prepare('SELECT inventory_item_id AS id, sku FROM shopify_items WHERE snapshot_id = ? ORDER BY inventory_item_id').all(snapshotId);
    const levels = db
      .prepare(
        'SELECT inventory_item_id AS item, location_id AS location, sku, available, on_hand, committed, reserved, incoming FROM shopify_levels WHERE snapshot_id = ? ORDER BY 1, 2',
      )
      .all(snapshotId);
    return { locations, items, levels };
  } finally {
    db.close();
  }
}

function expectedFromSeed(seed: Seed) {
  const byId =
    <T extends Record<string, unknown>>(key: keyof T) =>
    (a: T, b: T) =>
      String(a[key]).localeCompare(String(b[key]), 'en');
  const q = (level: SeedLevel, name: string) => (typeof level[name] === 'number' ? level[name] : 0);
  return {
    locations: [...seed.locations].sort(byId('id')),
    items: seed.items.map((item) => ({ id: item.inventoryItemId, sku: item.sku === '' ? null : item.sku })).sort(byId('id')),
    levels: seed.items
      .flatMap((item) =>
        item.levels.map((level) => ({
          item: item.inventoryItemId,
          location: level.locationId,
          sku: item.sku === '' ? null : item.sku,
          available: q(level, 'available'),
          on_hand: q(level, 'on_hand'),
          committed: q(level, 'committed'),
          reserved: q(level, 'reserved'),
          incoming: q(level, 'incoming'),
        })),
      )
      .sort((a, b) => (a.item === b.item ? a.location.localeCompare(b.location, 'en') : a.item.localeCompare(b.item, 'en'))),
  };
}

/** Every file of the snapshot database (with its WAL) must be free of the token. */
function assertTokenNowhere(dir: string, outputs: string[]): void {
  for (const text of outputs) assert.ok(!text.includes(TOKEN), 'the token leaked into the output');
  for (const suffix of ['', '-wal', '-shm']) {
    const file = join(dir, '.invrecon', `snapshot.db${suffix}`);
    if (existsSync(file)) assert.ok(!readFileSync(file).includes(TOKEN), `the token leaked into ${file}`);
  }
}

const seed = JSON.parse(readFileSync(seedPath, 'utf8')) as Seed;
const expected = expectedFromSeed(seed);

describe('pull shopify against the emulator', () => {
  const cleanups: (() => void)[] = [];
  after(() => cleanups.forEach((cleanup) => cleanup()));

  for (const mode of ['paged', 'bulk'] as const) {
    it(`--${mode}: the snapshot equals the seed`, async () => {
      const emulator = await startEmulator(['--seed', seedPath]);
      const workspace = workspaceWithConfig();
      cleanups.push(workspace.cleanup);
      try {
        const result = await pullShopify(workspace.dir, emulator.url, [`--${mode}`]);
        assert.equal(result.code, 0, result.stderr);
        const json = JSON.parse(result.stdout);
        assert.equal(json.side, 'shopify');
        assert.equal(json.mode, mode);
        assert.equal(json.rows, expected.levels.length);
        assert.equal(json.items, seed.items.length);
        assert.equal(json.locations, seed.locations.length);
        for (const key of ['snapshotId', 'calls', 'retries', 'throttledWaits', 'durationMs']) assert.equal(typeof json[key], 'number', key);
        assert.deepEqual(json.itemsWithoutSku, { count: 1, inventoryItemIds: ['gid://shopify/InventoryItem/109'] });
        assert.match(result.stderr, /warning: 1 inventory item has no SKU/);
        assert.deepEqual(snapshotAsSeed(workspace.dir, json.snapshotId), expected);
        assertTokenNowhere(workspace.dir, [result.stdout, result.stderr]);
      } finally {
        await emulator.stop();
      }
    });
  }

  it('a tiny bucket (50 points, 10/s): paced from throttleStatus, waits instead of being THROTTLED', async () => {
    const emulator = await startEmulator(['--seed', seedPath, '--max-available', '50', '--restore-rate', '10']);
    const workspace = workspaceWithConfig();
    cleanups.push(workspace.cleanup);
    try {
      let waits = 0;
      for (const mode of ['paged', 'bulk']) {
        const result = await pullShopify(workspace.dir, emulator.url, [`--${mode}`]);
        assert.equal(result.code, 0, result.stderr);
        const json = JSON.parse(result.stdout);
        assert.deepEqual(snapshotAsSeed(workspace.dir, json.snapshotId), expected);
        assert.equal(json.throttled, 0, `${mode}: no THROTTLED answer`);
        waits += json.throttledWaits;
      }
      assert.ok(waits > 0, 'the client waited for the bucket to refill');
      assert.equal((await emulator.state()).counters.throttled, 0);
    } finally {
      await emulator.stop();
    }
  });

  it('a tiny bucket (50 points, 10/s) and 10% 5xx answers: both modes still complete, exact', async () => {
    const emulator = await startEmulator(['--seed', seedPath, '--max-available', '50', '--restore-rate', '10', '--error-rate', '0.1', '--fault-seed', '7']);
    const workspace = workspaceWithConfig();
    cleanups.push(workspace.cleanup);
    try {
      let retries = 0;
      for (const mode of ['paged', 'bulk']) {
        const result = await pullShopify(workspace.dir, emulator.url, [`--${mode}`]);
        assert.equal(result.code, 0, result.stderr);
        const json = JSON.parse(result.stdout);
        assert.equal(json.mode, mode);
        assert.deepEqual(snapshotAsSeed(workspace.dir, json.snapshotId), expected);
        retries += json.retries;
        assertTokenNowhere(workspace.dir, [result.stdout, result.stderr]);
      }
      const state = await emulator.state();
      // Every 5xx the emulator sent was retried by the client.
      assert.ok(retries >= state.counters.faults.errors, `retries ${retries}, faults ${state.counters.faults.errors}`);
    } finally {
      await emulator.stop();
    }
  });

  it('dropped answers (the request ran, the answer was lost): both modes still complete, exact', async () => {
    const emulator = await startEmulator(['--seed', seedPath, '--drop-rate', '0.25', '--fault-seed', '3']);
    const workspace = workspaceWithConfig();
    cleanups.push(workspace.cleanup);
    try {
      let retries = 0;
      for (const mode of ['paged', 'bulk', 'bulk']) {
        const result = await pullShopify(workspace.dir, emulator.url, [`--${mode}`]);
        assert.equal(result.code, 0, result.stderr);
        const json = JSON.parse(result.stdout);
        assert.deepEqual(snapshotAsSeed(workspace.dir, json.snapshotId), expected);
        retries += json.retries;
      }
      const state = await emulator.state();
      assert.ok(retries >= state.counters.faults.drops, `retries ${retries}, drops ${state.counters.faults.drops}`);
    } finally {
      await emulator.stop();
    }
  });

  it('automatic mode goes bulk above shopify.bulkThreshold', async () => {
    const emulator = await startEmulator(['--seed', seedPath]);
    const workspace = workspaceWithConfig({ bulkThreshold: 4 });
    cleanups.push(workspace.cleanup);
    try {
      const result = await pullShopify(workspace.dir, emulator.url);
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout);
      assert.equal(json.mode, 'bulk');
      assert.match(json.modeReason, /^more than 4 inventory items: .*\(shopify.bulkThreshold caps it at 4\); counted by /);
      assert.deepEqual(snapshotAsSeed(workspace.dir, json.snapshotId), expected);
      const table = await runCli(['pull', 'shopify', '--paged'], {
        cwd: workspace.dir,
        env: { SHOPIFY_ADMIN_TOKEN: TOKEN, INVRECON_SHOPIFY_ENDPOINT: emulator.url },
      });
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^Shopify snapshot #2: 15 levels, 9 items \(1 without SKU\), 3 locations \(paged, /);
    } finally {
      await emulator.stop();
    }
  });

  it('without SHOPIFY_ADMIN_TOKEN: exit 1, a clear message, no snapshot', async () => {
    const workspace = workspaceWithConfig();
    cleanups.push(workspace.cleanup);
    const result = await runCli(['pull', 'shopify'], {
      cwd: workspace.dir,
      env: { SHOPIFY_ADMIN_TOKEN: undefined, INVRECON_SHOPIFY_ENDPOINT: 'http://127.0.0.1:9' },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /SHOPIFY_ADMIN_TOKEN is not set/);
    assert.equal(result.stdout, '');
    assert.ok(!existsSync(join(workspace.dir, '.invrecon', 'snapshot.db')));
  });

  it('a wrong token: exit 1 naming the variable, never its value, and nothing written', async () => {
    const emulator = await startEmulator(['--seed', seedPath]);
    const workspace = workspaceWithConfig();
    cleanups.push(workspace.cleanup);
    try {
      const wrong = 'shpat_wrong_token_value_42';
      const result = await runCli(['pull', 'shopify'], { cwd: workspace.dir, env: { SHOPIFY_ADMIN_TOKEN: wrong, INVRECON_SHOPIFY_ENDPOINT: emulator.url } });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /HTTP 401.*SHOPIFY_ADMIN_TOKEN/);
      assert.ok(!result.stderr.includes(wrong) && !result.stdout.includes(wrong));
      const db = new Database(join(workspace.dir, '.invrecon', 'snapshot.db'), { readonly: true });
      assert.equal(db.prepare('SELECT count(*) FROM snapshots').pluck().get(), 0);
      db.close();
    } finally {
      await emulator.stop();
    }
  });

  it('refuses plain http to a host that is not loopback', async () => {
    const workspace = workspaceWithConfig();
    cleanups.push(workspace.cleanup);
    const result = await runCli(['pull', 'shopify'], {
      cwd: workspace.dir,
      env: { SHOPIFY_ADMIN_TOKEN: TOKEN, INVRECON_SHOPIFY_ENDPOINT: 'http://shop.example.com' },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /INVRECON_SHOPIFY_ENDPOINT: plain http is only allowed for loopback hosts/);
  });

  it('--bulk with --paged is a usage error', async () => {
    const workspace = workspaceWithConfig();
    cleanups.push(workspace.cleanup);
    const result = await runCli(['pull', 'shopify', '--bulk', '--paged'], { cwd: workspace.dir, env: { SHOPIFY_ADMIN_TOKEN: TOKEN } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--bulk and --paged: choose one/);
  });
});
