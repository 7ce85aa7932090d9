import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSeed } from '../../src/emulator/index.js';
import { readPlan } from '../../src/plan/file.js';
import { demoDir } from '../helpers/cli.js';
import { openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** stdout as JSON, or a failure that shows what the command said instead. */
function stdoutJson(result: { code: number | null; stdout: string; stderr: string }) {
  try {
    return JSON.parse(result.stdout);
  } catch {
    assert.fail(`expected JSON on stdout (exit ${result.code}); stderr: ${result.stderr}`);
  }
}

/** The demo shop in the emulator, with one ERP and one Shopify snapshot pulled. */
async function demoShopWithSnapshots(): Promise<ShopWorkspace> {
  const shop = await openShopWorkspace({ seed: loadSeed(join(demoDir, 'shop.json')), demo: true });
  for (const side of ['erp', 'shopify']) {
    const pulled = await shop.cli(['pull', side]);
    assert.equal(pulled.code, 0, pulled.stderr);
  }
  return shop;
}

describe('plan and apply against the emulator (demo shop)', () => {
  let shop: ShopWorkspace;
  before(async () => {
    shop = await demoShopWithSnapshots();
  });
  after(() => shop.close());

  it('plan writes a sorted plan with a digest; the same inputs give the same file', async () => {
    const first = await shop.cli(['plan', '--out', 'plan.json', '--format', 'json', '--detailed-exitcode']);
    assert.equal(first.code, 2, first.stderr);
    const summary = stdoutJson(first);
    assert.equal(summary.applyable, true);
    const bytes = readFileSync(join(shop.dir, 'plan.json'), 'utf8');
    const again = await shop.cli(['plan', '--out', 'plan-again.json', '--erp-out', 'erp-corrections.csv']);
    assert.equal(again.code, 0, again.stderr);
    // POS-BAG is Shopify-authoritative (category pos-only): the ERP is the side to correct.
    assert.equal(readFileSync(join(shop.dir, 'erp-corrections.csv'), 'utf8'), 'sku,warehouse,current,proposed,delta\nPOS-BAG,STORE-1,40,36,-4\n');
    assert.match(again.stdout, /~ MUG-WHT {2}30 → 24 \(-6\) {2}on_hand 30 − reserved 4 − safety 2 \(safetyStock\.bySku\) = 24/);
    assert.equal(readFileSync(join(shop.dir, 'plan-again.json'), 'utf8'), bytes);
    const plan = readPlan(join(shop.dir, 'plan.json'));
    assert.equal(plan.digest, summary.digest);
    const keys = plan.changes.map((c) => `${c.locationId} ${c.sku}`);
    assert.deepEqual(keys, [...keys].sort());
    assert.deepEqual(
      plan.changes.map((c) => [c.sku, c.locationId.slice(-1), c.from, c.to]),
      [
        ['CAP-BLK', '1', 1, 0],
        ['GIFT-SET', '1', 4, 12],
        ['MUG-WHT', '1', 30, 24],
        ['TEE-RED-M', '1', 5, 13],
        ['GIFT-SET', '2', 0, 2],
        ['TEE-RED-L', '2', 2, 0],
        ['TEE-RED-M', '2', 3, 2],
      ],
    );
  });

  it('a dry run prints the batches and sends no mutation', async () => {
    const mutationsBefore = shop.emulator.state.history.length;
    const result = await shop.cli(['apply', 'plan.json', '--format', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const json = stdoutJson(result);
    assert.equal(json.dryRun, true);
    assert.equal(json.applied, 0);
    assert.equal(json.batches.length, 1);
    assert.equal(json.batches[0].rows.length, 7);
    assert.equal(shop.emulator.state.history.length, mutationsBefore);
  });

  it('refuses a plan whose digest does not match its content', async () => {
    const text = readFileSync(join(shop.dir, 'plan.json'), 'utf8');
    // A change's target edited in place, and the summary's count edited in the header.
    writeFileSync(
      join(shop.dir, 'tampered.json'),
      text.replace(/"to":(\d+)/, (_m, to: string) => `"to":${Number(to) + 90}`),
    );
    const result = await shop.cli(['apply', 'tampered.json', '--commit']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /rows do not match its digest/);
    writeFileSync(join(shop.dir, 'tampered-header.json'), text.replace(/"changes": 7,/, '"changes": 6,'));
    const header = await shop.cli(['apply', 'tampered-header.json', '--commit']);
    assert.equal(header.code, 1);
    assert.match(header.stderr, /digest does not match its header/);
  });

  it('refuses a plan made for another shop', async () => {
    const config = readJson<Record<string, { shop: string }>>(join(shop.dir, 'invrecon.config.json'));
    config.shopify!.shop = 'other-shop.myshopify.com';
    writeFileSync(join(shop.dir, 'other.config.json'), JSON.stringify(config));
    const result = await shop.cli(['apply', 'plan.json', '--commit', '--config', 'other.config.json']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /made for demo-shop\.myshopify\.com, but the config is for other-shop\.myshopify\.com/);
  });

  it('apply --commit leaves the emulator exactly at the targets, and applying again changes nothing', async () => {
    const plan = readPlan(join(shop.dir, 'plan.json'));
    const result = await shop.cli(['apply', 'plan.json', '--commit', '--format', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const json = stdoutJson(result);
    assert.deepEqual([json.applied, json.conflicts, json.failed, json.dryRun], [7, 0, 0, false]);
    for (const change of plan.changes) {
      assert.equal(shop.emulator.state.level(change.inventoryItemId, change.locationId)?.available, change.to, `${change.sku} at ${change.locationId}`);
    }
    const historyLength = shop.emulator.state.history.length;
    const again = await shop.cli(['apply', 'plan.json', '--commit', '--format', 'json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(stdoutJson(again).alreadyApplied, true);
    assert.equal(shop.emulator.state.history.length, historyLength);

    const log = await shop.cli(['log', '--plan', plan.digest.slice(0, 10), '--format', 'json']);
    const entries = stdoutJson(log);
    assert.equal(entries.changes.length, 7);
    assert.ok(entries.calls.some((c: { operation: string; outcome: string }) => c.operation === 'InventorySetQuantities' && c.outcome === 'applied'));
    assert.ok(
      entries.changes.every((c: { locationName: string; outcome: string }) => c.locationName === 'Main Warehouse' || c.locationName === 'Downtown Store'),
    );
    const csv = await shop.cli(['log', '--sku', 'MUG-WHT', '--format', 'csv']);
    assert.match(
      csv.stdout,
      /^at,plan,sku,inventory_item_id,location_id,location,before,after,outcome,rule\n.*MUG-WHT,gid:\/\/shopify\/InventoryItem\/104,gid:\/\/shopify\/Location\/1,Main Warehouse,30,24,applied,/m,
    );

    const pulled = await shop.cli(['pull', 'shopify']);
    assert.equal(pulled.code, 0, pulled.stderr);
    const diff = await shop.cli(['diff', '--format', 'json']);
    const changes = stdoutJson(diff).rows.filter((r: { status: string }) => r.status === 'change');
    assert.deepEqual(changes, []);
  });

  it('refuses a plan older than a newer snapshot that shows other values', async () => {
    const made = await shop.cli(['plan', '--out', 'plan-old.json']);
    assert.equal(made.code, 0, made.stderr);
    // A plan with nothing left to change is never stale, so make drift first: a sale on a level the ERP disagrees with.
    shop.emulator.state.sell('gid://shopify/InventoryItem/102', 'gid://shopify/Location/1', 3);
    assert.equal((await shop.cli(['pull', 'shopify'])).code, 0);
    const fresh = await shop.cli(['plan', '--out', 'plan-fresh.json']);
    assert.equal(fresh.code, 0, fresh.stderr);
    shop.emulator.state.sell('gid://shopify/InventoryItem/102', 'gid://shopify/Location/1', 1);
    assert.equal((await shop.cli(['pull', 'shopify'])).code, 0);
    const result = await shop.cli(['apply', 'plan-fresh.json', '--commit']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the plan is stale: Shopify snapshot #\d+ is newer than its baseline #\d+ and shows other values for 1 of its levels/);
    assert.match(result.stderr, /TEE-RED-L at Main Warehouse: planned from 5, now 4/);
  });
});

describe('guards against a bad ERP export', () => {
  let shop: ShopWorkspace;
  before(async () => {
    shop = await demoShopWithSnapshots();
  });
  after(() => shop.close());

  it('an empty export makes a plan that is not applyable, and apply refuses it', async () => {
    writeFileSync(join(shop.dir, 'empty.csv'), 'sku,warehouse,on_hand\n');
    assert.equal((await shop.cli(['pull', 'erp', '--csv', 'empty.csv'])).code, 0);
    const plan = await shop.cli(['plan', '--out', 'empty-plan.json', '--format', 'json']);
    const json = stdoutJson(plan);
    assert.equal(json.applyable, false);
    // A refused plan is an error (exit 1), each failed guard named on stderr with its numbers.
    assert.equal(plan.code, 1);
    assert.match(plan.stderr, /plan: a guard refused the plan/);
    assert.match(plan.stderr, /emptyErp \(value 0, limit 1\)/);
    assert.equal(json.error.details.length, 5);
    const failed = json.guards.filter((g: { ok: boolean }) => !g.ok).map((g: { name: string }) => g.name);
    assert.deepEqual(failed, ['emptyErp', 'maxZeroedShare', 'emptiedLocations', 'maxRowDrop', 'warehousesPresent']);
    const historyLength = shop.emulator.state.history.length;
    const applied = await shop.cli(['apply', 'empty-plan.json', '--commit']);
    assert.equal(applied.code, 1);
    assert.match(applied.stderr, /apply: a guard refused the plan.*--force/);
    assert.match(applied.stderr, /emptyErp \(value 0, limit 1\): the ERP export is empty/);
    assert.equal(shop.emulator.state.history.length, historyLength);
  });

  it('a truncated export (most rows missing) is caught by the row-drop and zeroed-share guards; --force is recorded', async () => {
    assert.equal((await shop.cli(['pull', 'erp'])).code, 0);
    const full = readFileSync(join(shop.dir, 'erp.csv'), 'utf8').split('\n');
    writeFileSync(join(shop.dir, 'truncated.csv'), full.slice(0, 4).join('\n') + '\n');
    assert.equal((await shop.cli(['pull', 'erp', '--csv', 'truncated.csv'])).code, 0);
    const plan = await shop.cli(['plan', '--out', 'truncated-plan.json', '--format', 'json']);
    const json = stdoutJson(plan);
    assert.equal(json.applyable, false);
    assert.ok(json.guards.some((g: { name: string; ok: boolean }) => g.name === 'maxRowDrop' && !g.ok));
    const forced = await shop.cli(['plan', '--out', 'forced-plan.json', '--force', '--format', 'json']);
    const forcedJson = stdoutJson(forced);
    assert.deepEqual([forcedJson.applyable, forcedJson.forced], [true, true]);
    assert.equal(readPlan(join(shop.dir, 'forced-plan.json')).guards.forced, true);
  });
});

describe('apply never applies a change twice, and never hides what it left undone', () => {
  let shop: ShopWorkspace;
  before(async () => {
    shop = await demoShopWithSnapshots();
  });
  after(() => shop.close());

  it('refuses a second plan from the same snapshot once the first changed its levels', async () => {
    assert.equal((await shop.cli(['plan', '--sku', 'MUG-*', '--out', 'mugs.json'])).code, 0);
    assert.equal((await shop.cli(['plan', '--out', 'everything.json'])).code, 0);
    const first = await shop.cli(['apply', 'mugs.json', '--commit']);
    assert.equal(first.code, 0, first.stderr);
    const mug = () => shop.emulator.state.level('gid://shopify/InventoryItem/104', 'gid://shopify/Location/1')!.available;
    assert.equal(mug(), 24);
    const second = await shop.cli(['apply', 'everything.json', '--commit']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /invrecon has changed 1 of its levels since its baseline/);
    assert.match(second.stderr, /MUG-WHT at Main Warehouse: set by another invrecon plan/);
    assert.equal(mug(), 24, 'the 30 → 24 change was not carried forward a second time');
  });

  it('a re-run of a plan that ended with conflicts still exits 3 and lists them', async () => {
    assert.equal((await shop.cli(['pull', 'shopify'])).code, 0);
    assert.equal((await shop.cli(['plan', '--out', 'rest.json'])).code, 0);
    // A sale after the snapshot, and only one compare-and-swap miss allowed: that level becomes a conflict.
    shop.emulator.state.sell('gid://shopify/InventoryItem/101', 'gid://shopify/Location/1', 1);
    const first = await shop.cli(['apply', 'rest.json', '--commit', '--max-misses', '1', '--format', 'json']);
    assert.equal(first.code, 3, first.stderr);
    assert.equal(stdoutJson(first).conflicts, 1);
    const again = await shop.cli(['apply', 'rest.json', '--commit', '--format', 'json']);
    assert.equal(again.code, 3);
    const json = stdoutJson(again);
    assert.deepEqual([json.alreadyApplied, json.applied, json.conflicts], [true, 0, 1]);
    assert.equal(json.conflictRows[0].sku, 'TEE-RED-M');
    const text = await shop.cli(['apply', 'rest.json', '--commit']);
    assert.equal(text.code, 3);
    assert.match(text.stdout, /conflict: TEE-RED-M @ Main Warehouse: planned \d+ → \d+, now \d+/);
    assert.match(text.stdout, /applied before and left 1 level undone .*nothing sent: run "invrecon pull shopify" and "invrecon plan" for a new plan/);
  });

  it('lists a row carried forward (planned and sent) and logs the call as carried, never as ok', async () => {
    assert.equal((await shop.cli(['pull', 'shopify'])).code, 0);
    const planned = await shop.cli(['plan', '--out', 'carry.json']);
    assert.equal(planned.code, 0, planned.stderr);
    const plan = readPlan(join(shop.dir, 'carry.json'));
    const change = plan.changes[0]!;
    shop.emulator.state.sell(change.inventoryItemId, change.locationId, 1);
    const result = await shop.cli(['apply', 'carry.json', '--commit']);
    assert.equal(result.code, 0, result.stderr);
    const target = Math.max(0, change.to - 1);
    assert.match(
      result.stdout,
      new RegExp(
        `carried: ${change.sku} @ .*: planned ${change.from} → ${change.to}, sent ${change.from - 1} → ${target} \\(Shopify showed ${change.from - 1} instead of ${change.from}`,
      ),
    );
    assert.equal(shop.emulator.state.level(change.inventoryItemId, change.locationId)!.available, target);
    const log = stdoutJson(await shop.cli(['log', '--plan', plan.digest.slice(0, 12), '--format', 'json']));
    const outcomes = log.calls.filter((c: { operation: string }) => c.operation === 'InventorySetQuantities').map((c: { outcome: string }) => c.outcome);
    assert.equal(outcomes[0], 'carried');
    assert.ok(!outcomes.includes('ok'), outcomes.join(', '));
  });

  it('a truncated export pulled twice is still caught, and so is a mapped warehouse that vanished', async () => {
    const full = readFileSync(join(shop.dir, 'erp.csv'), 'utf8').split('\n');
    writeFileSync(join(shop.dir, 'short.csv'), full.slice(0, 4).join('\n') + '\n');
    for (let pull = 0; pull < 2; pull++) assert.equal((await shop.cli(['pull', 'erp', '--csv', 'short.csv'])).code, 0);
    assert.equal((await shop.cli(['pull', 'shopify'])).code, 0);
    const plan = stdoutJson(await shop.cli(['plan', '--out', 'short-plan.json', '--format', 'json']));
    assert.equal(plan.applyable, false);
    const rowDrop = plan.guards.find((g: { name: string }) => g.name === 'maxRowDrop');
    assert.equal(rowDrop.ok, false);
    assert.match(rowDrop.message, /in the ERP snapshot of the last applied plan/);

    // The full export but without the store's warehouse.
    writeFileSync(join(shop.dir, 'no-store.csv'), full.filter((line) => !line.includes(',STORE-1,')).join('\n'));
    assert.equal((await shop.cli(['pull', 'erp'])).code, 0);
    assert.equal((await shop.cli(['pull', 'erp', '--csv', 'no-store.csv'])).code, 0);
    const noStore = stdoutJson(await shop.cli(['plan', '--out', 'no-store-plan.json', '--format', 'json']));
    assert.equal(noStore.applyable, false);
    const present = noStore.guards.find((g: { name: string }) => g.name === 'warehousesPresent');
    assert.equal(present.ok, false);
    assert.match(
      present.message,
      /^mapped warehouse "STORE-1" had rows in the ERP snapshot of the last applied plan \(#1\) and the previous ERP snapshot \(#\d+\) and has none now$/,
    );
  });
});

describe('a live dry run', () => {
  let shop: ShopWorkspace;
  before(async () => {
    shop = await demoShopWithSnapshots();
  });
  after(() => shop.close());

  it('a live dry run reads Shopify now and shows which changes are already stale, still sending nothing', async () => {
    assert.equal((await shop.cli(['plan', '--out', 'plan.json'])).code, 0);
    const mug = ['gid://shopify/InventoryItem/104', 'gid://shopify/Location/1'] as const;
    shop.emulator.state.sell(...mug, 2);
    const historyLength = shop.emulator.state.history.length;
    const result = await shop.cli(['apply', 'plan.json', '--live']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /MUG-WHT @ Main Warehouse: 30 → 24 {2}\(stale: Shopify shows 28 now; a commit would send 22, keeping the -2 since the plan\)/);
    assert.match(result.stdout, /TEE-RED-M @ Main Warehouse: 5 → 13\n/);
    assert.equal(shop.emulator.state.history.length, historyLength, 'no mutation');
    const json = stdoutJson(await shop.cli(['apply', 'plan.json', '--live', '--format', 'json']));
    const row = json.batches[0].rows.find((r: { sku: string; locationId: string }) => r.sku === 'MUG-WHT' && r.locationId === mug[1]);
    assert.deepEqual([row.current, row.wouldSend], [28, 22]);
  });
});
