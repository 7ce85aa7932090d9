// Real-store hygiene, end to end: untracked items and inactive locations are read by both pull modes,
// kept in the snapshot, left out of diff, plan and apply, and reported with counts.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startEmulator, type RunningEmulator, type Seed } from '../../src/emulator/index.js';
import { readPlan } from '../../src/plan/file.js';
import { CAP, DOWNTOWN, ENGRAVING, hygieneFiles, hygieneSeed, hygieneSeedBefore, MAIN, MUG, OLD, TEE } from '../helpers/hygiene-shop.js';
import { openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';

function stdoutJson(result: { code: number | null; stdout: string; stderr: string }) {
  try {
    return JSON.parse(result.stdout);
  } catch {
    assert.fail(`expected JSON on stdout (exit ${result.code}); stderr: ${result.stderr}`);
  }
}

/** A workspace on its own emulator, with the ERP and Shopify pulled. */
async function pulledShop(seed: Seed, files: Record<string, string>): Promise<ShopWorkspace> {
  const shop = await openShopWorkspace({ seed, files });
  for (const args of [
    ['pull', 'erp'],
    ['pull', 'shopify'],
  ]) {
    const result = await shop.cli(args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
  }
  return shop;
}

function snapshotDb(dir: string) {
  return new Database(join(dir, '.invrecon', 'snapshot.db'), { readonly: true });
}

describe('pull shopify reads tracked and isActive (both modes)', () => {
  let shop: ShopWorkspace;
  before(async () => {
    shop = await openShopWorkspace({ seed: hygieneSeed, files: hygieneFiles });
  });
  after(() => shop.close());

  for (const mode of ['--paged', '--bulk']) {
    it(`${mode}: keeps the inactive location and the untracked item in the snapshot, flagged, and counts them`, async () => {
      const result = await shop.cli(['pull', 'shopify', mode, '--format', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const json = stdoutJson(result);
      assert.equal(json.locations, 3);
      assert.equal(json.rows, 8);
      assert.deepEqual(json.untrackedItems, { count: 1, skus: ['ENGRAVING'] });
      assert.deepEqual(json.inactiveLocations, { count: 1, names: ['Old Store'] });
      assert.ok(!json.warnings.some((w: string) => w.includes('did not list')), json.warnings.join('\n'));
      const db = snapshotDb(shop.dir);
      try {
        const id = json.snapshotId;
        assert.deepEqual(db.prepare('SELECT location_id, is_active FROM shopify_locations WHERE snapshot_id = ? ORDER BY 1').raw().all(id), [
          [MAIN, 1],
          [OLD, 0],
          [DOWNTOWN, 1],
        ]);
        assert.deepEqual(db.prepare('SELECT inventory_item_id FROM shopify_items WHERE snapshot_id = ? AND tracked = 0').pluck().all(id), [ENGRAVING]);
      } finally {
        db.close();
      }
    });
  }

  it('the table says what is left out of plans', async () => {
    const result = await shop.cli(['pull', 'shopify', '--paged']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Kept in the snapshot, left out of plans: 1 untracked item, 1 inactive location/);
  });

  it('both modes hash the same shop alike', async () => {
    const paged = stdoutJson(await shop.cli(['pull', 'shopify', '--paged', '--format', 'json']));
    const bulk = stdoutJson(await shop.cli(['pull', 'shopify', '--bulk', '--format', 'json']));
    assert.equal(paged.contentHash, bulk.contentHash);
  });
});

describe('diff, plan and apply --commit leave untracked items and inactive locations out', () => {
  let shop: ShopWorkspace;
  before(async () => {
    shop = await pulledShop(hygieneSeed, hygieneFiles);
  });
  after(() => shop.close());

  it('diff: the levels left out have their own status and counts, no delta, and the mapped inactive location is an issue', async () => {
    const result = await shop.cli(['diff', '--format', 'json', '--detailed-exitcode']);
    assert.equal(result.code, 2, result.stderr);
    const json = stdoutJson(result);
    assert.deepEqual(json.summary.leftOut, { levels: 3, ofUntrackedItems: 2, atInactiveLocations: 1 });
    assert.equal(json.summary.levelsCompared, 5);
    assert.equal(json.summary.levelsDrifting, 3);
    assert.deepEqual(
      json.rows.map((r: any) => [r.sku, r.locationName, r.target, r.observed, r.delta, r.status]),
      [
        ['ENGRAVING', 'Downtown', 0, 7, null, 'untracked'],
        ['CAP-BLK', 'Main Warehouse', 0, 1, -1, 'change'],
        ['ENGRAVING', 'Main Warehouse', 12, 0, null, 'untracked'],
        ['MUG-WHT', 'Main Warehouse', 24, 30, -6, 'change'],
        ['TEE-RED-M', 'Main Warehouse', 10, 5, 5, 'change'],
        ['TEE-RED-M', 'Old Store', 9, 4, null, 'inactive-location'],
      ],
    );
    assert.deepEqual(json.issues, [
      'locations[1].shopifyLocation: "Old Store" is inactive in Shopify (deactivated): nothing is written there, 1 level left out; reactivate it, or remove this entry from "locations" (map "WH-OLD" to another location only if that stock has really moved there)',
      '1 SKU left out (2 levels): Shopify does not track its quantities, so nothing is written for it: "ENGRAVING"; turn on "Track quantity" in Shopify to reconcile it',
    ]);
    const table = await shop.cli(['diff']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /3 levels left out: 2 of untracked items, 1 at inactive locations$/m);
    assert.match(table.stdout, /^Old Store {2}0 levels drifting in Shopify of 0, \|drift\| 0; 1 left out$/m);
    assert.match(table.stdout, /! locations\[1\]\.shopifyLocation: "Old Store" is inactive in Shopify/);
  });

  it('plan: no change for them, counted in the header and the summary line; apply --commit leaves their levels untouched', async () => {
    const planned = await shop.cli(['plan', '--out', 'plan.json']);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /^Plan: 3 changes .* of 5 levels compared\.$/m);
    assert.match(planned.stdout, /^3 levels left out: 2 of untracked items, 1 at inactive locations \(see the issues above\)\.$/m);
    assert.match(planned.stdout, /! 1 SKU left out \(2 levels\): Shopify does not track its quantities/);
    const plan = readPlan(join(shop.dir, 'plan.json'));
    assert.deepEqual(
      plan.changes.map((c) => [c.sku, c.locationId, c.from, c.to]),
      [
        ['CAP-BLK', MAIN, 1, 0],
        ['MUG-WHT', MAIN, 30, 24],
        ['TEE-RED-M', MAIN, 5, 10],
      ],
    );
    assert.deepEqual(plan.summary.leftOut, { levels: 3, ofUntrackedItems: 2, atInactiveLocations: 1 });
    assert.ok(plan.guards.applyable);
    const json = stdoutJson(await shop.cli(['plan', '--out', 'plan-again.json', '--format', 'json']));
    assert.deepEqual(json.summary.leftOut, plan.summary.leftOut);

    const applied = await shop.cli(['apply', 'plan.json', '--commit', '--format', 'json']);
    assert.equal(applied.code, 0, applied.stderr);
    const result = stdoutJson(applied);
    assert.equal(result.applied, 3);
    assert.equal(result.failed, 0);
    const state = shop.emulator.state;
    assert.equal(state.level(TEE, MAIN)!.available, 10);
    assert.equal(state.level(ENGRAVING, MAIN)!.available, 0);
    assert.equal(state.level(ENGRAVING, DOWNTOWN)!.available, 7);
    assert.equal(state.level(TEE, OLD)!.available, 4);
    const touched = new Set(state.history.map((h) => `${h.inventoryItemId} ${h.locationId}`));
    for (const key of [`${ENGRAVING} ${MAIN}`, `${ENGRAVING} ${DOWNTOWN}`, `${TEE} ${OLD}`]) assert.ok(!touched.has(key), key);
  });

  it('sync --commit afterwards: nothing left to write, the left-out levels still untouched', async () => {
    const historyBefore = shop.emulator.state.history.length;
    const result = await shop.cli(['sync', '--commit', '--format', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const json = stdoutJson(result);
    assert.equal(json.drifting, 0);
    assert.equal(json.levelsCompared, 5);
    assert.deepEqual(json.leftOut, { levels: 3, ofUntrackedItems: 2, atInactiveLocations: 1 });
    assert.equal(shop.emulator.state.history.length, historyBefore);
    const line = await shop.cli(['sync']);
    assert.equal(line.code, 0, line.stderr);
    assert.match(line.stdout, /, 3 levels left out: 2 of untracked items, 1 at inactive locations, guards passed/);
  });
});

describe('status, report and the sync alert count the levels left out', () => {
  let shop: ShopWorkspace;
  let hook: Server;
  const posts: any[] = [];
  before(async () => {
    hook = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (c: string) => (text += c));
      req.on('end', () => {
        posts.push(JSON.parse(text));
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const config = JSON.parse(hygieneFiles['invrecon.config.json']);
    // Every level still off after the sync is worth an alert: a dry run leaves the three changes off.
    config.alerts = { maxDeviation: 0, webhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` };
    shop = await pulledShop(hygieneSeed, { ...hygieneFiles, 'invrecon.config.json': JSON.stringify(config) });
    const synced = await shop.cli(['sync']);
    assert.equal(synced.code, 0, synced.stderr);
  });
  after(async () => {
    await shop.close();
    await new Promise<void>((resolve) => hook.close(() => resolve()));
  });
  const perLocation = [
    ['Downtown', 1],
    ['Main Warehouse', 1],
    ['Old Store', 1],
  ];

  it('the alert sync posts: the count, by why and by location, in the text and the fields', () => {
    assert.equal(posts.length, 1);
    const [alert] = posts;
    assert.match(alert.text, /^- 3 levels off by more than 0 \(alerts\.maxDeviation\) after the sync/m);
    assert.match(alert.text, /\n\(3 levels left out: 2 of untracked items, 1 at inactive locations: never written, not counted as drift\)$/);
    assert.deepEqual(alert.leftOut, { levels: 3, ofUntrackedItems: 2, atInactiveLocations: 1 });
    assert.deepEqual(alert.leftOutByLocation.map((l: any) => [l.locationName, l.levels]).sort(), perLocation);
  });

  it('status: drift now and the run say how many levels were left out (text and JSON)', async () => {
    const json = stdoutJson(await shop.cli(['status', '--format', 'json']));
    assert.deepEqual(json.driftNow.leftOut, { levels: 3, ofUntrackedItems: 2, atInactiveLocations: 1 });
    assert.deepEqual(json.driftNow.byLocation.map((l: any) => [l.locationName, l.leftOut]).sort(), perLocation);
    assert.equal(json.runs[0].leftOut, 3);
    const text = await shop.cli(['status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^Drift now \(.*\): 5 levels compared; Shopify drift 3 \(\|drift\| 12\); .*; 3 levels left out: 2 of untracked items, 1 at inactive locations$/m,
    );
    assert.match(text.stdout, /│ drifting │ left out │ applied │/);
    assert.match(text.stdout, /│ #1 .*│ +3 │ +3 │ +- │/);
  });

  it('report --html: a card, a column per location and per run, and the embedded data', async () => {
    const file = join(shop.dir, 'report.html');
    const result = await shop.cli(['report', '--html', file]);
    assert.equal(result.code, 0, result.stderr);
    const html = readFileSync(file, 'utf8');
    assert.match(html, /<div class="k">Left out<\/div><div class="v">3 levels left out: 2 of untracked items, 1 at inactive locations<\/div>/);
    assert.match(html, /<tr><td>Old Store<\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num">1<\/td>/);
    assert.match(html, /<th>drifting<\/th><th>left out<\/th><th>applied<\/th>/);
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
    assert.deepEqual(data.driftNow.leftOut, { levels: 3, ofUntrackedItems: 2, atInactiveLocations: 1 });
    assert.deepEqual(data.byLocation.locations.map((l: any) => [l.locationName, l.leftOut]).sort(), perLocation);
    assert.equal(data.runs[0].leftOut, 3);
  });
});

describe('a closed store: the inactive location has no levels left', () => {
  // Shopify makes you move a location's stock out before you deactivate it: Old Store has no levels at all.
  // ENGRAVING (untracked) has no level at Downtown either, where the ERP has 2.
  const closedSeed: Seed = {
    locations: hygieneSeed.locations,
    items: hygieneSeed.items.map((i) => ({
      ...i,
      levels: (i.levels ?? []).filter((l) => l.locationId === MAIN || (l.locationId === DOWNTOWN && i.inventoryItemId !== ENGRAVING)),
    })),
  };
  const closedFiles = { ...hygieneFiles, 'erp.csv': hygieneFiles['erp.csv'].replace('ENGRAVING,STORE-1,0,0', 'ENGRAVING,STORE-1,2,0') };
  let shop: ShopWorkspace;
  before(async () => {
    shop = await pulledShop(closedSeed, closedFiles);
  });
  after(() => shop.close());

  it('diff: levels with no Shopify level there are left out and counted, not "not stocked"', async () => {
    const json = stdoutJson(await shop.cli(['diff', '--format', 'json']));
    assert.deepEqual(
      json.rows.map((r: any) => [r.sku, r.locationName, r.target, r.observed, r.status]),
      [
        ['ENGRAVING', 'Downtown', 2, null, 'untracked'],
        ['CAP-BLK', 'Main Warehouse', 0, 1, 'change'],
        ['ENGRAVING', 'Main Warehouse', 12, 0, 'untracked'],
        ['MUG-WHT', 'Main Warehouse', 24, 30, 'change'],
        ['TEE-RED-M', 'Main Warehouse', 10, 5, 'change'],
        ['TEE-RED-M', 'Old Store', 9, null, 'inactive-location'],
      ],
    );
    assert.equal(json.summary.reported['not-stocked'], 0);
    assert.deepEqual(json.summary.leftOut, { levels: 3, ofUntrackedItems: 2, atInactiveLocations: 1 });
    assert.match(
      json.issues[0],
      /^locations\[1\]\.shopifyLocation: "Old Store" is inactive in Shopify \(deactivated\): nothing is written there, 1 level left out;/,
    );
    const table = await shop.cli(['diff']);
    assert.equal(table.code, 0, table.stderr);
    assert.doesNotMatch(table.stdout, /not stocked|not-stocked/);
    assert.match(table.stdout, /3 levels left out: 2 of untracked items, 1 at inactive locations$/m);
  });

  it('plan: the ERP stops exporting the warehouse of the closed store, and the guards still pass', async () => {
    writeFileSync(join(shop.dir, 'erp-closed.csv'), closedFiles['erp.csv'].replace('TEE-RED-M,WH-OLD,9,0\n', ''));
    const pulled = await shop.cli(['pull', 'erp', '--csv', 'erp-closed.csv']);
    assert.equal(pulled.code, 0, pulled.stderr);
    const planned = await shop.cli(['plan', '--out', 'plan.json']);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(
      planned.stdout,
      /warehousesPresent: every mapped warehouse of the previous ERP snapshot \(#1\) is still there; not counting "WH-OLD", mapped to an inactive location/,
    );
    const plan = readPlan(join(shop.dir, 'plan.json'));
    assert.ok(plan.guards.applyable, JSON.stringify(plan.guards.checks));
    assert.deepEqual(plan.summary.leftOut, { levels: 2, ofUntrackedItems: 2, atInactiveLocations: 0 });
  });
});

describe('bundles: an untracked service the ERP does not list', () => {
  // An engraved tee: ENGRAVING is a service Shopify does not track and the ERP does not export.
  const KIT = 'gid://shopify/InventoryItem/105';
  const seed: Seed = {
    locations: hygieneSeed.locations,
    items: [
      ...hygieneSeed.items,
      {
        sku: 'TEE-ENGRAVED',
        inventoryItemId: KIT,
        levels: [
          { locationId: MAIN, available: 50 },
          { locationId: DOWNTOWN, available: 50 },
        ],
      },
    ],
  };
  const files = {
    ...hygieneFiles,
    'invrecon.config.json': JSON.stringify({ ...JSON.parse(hygieneFiles['invrecon.config.json']), bundles: { csv: 'bundles.csv' } }),
    'bundles.csv': 'bundle_sku,component_sku,quantity\nTEE-ENGRAVED,TEE-RED-M,1\nTEE-ENGRAVED,ENGRAVING,1\n',
    'erp.csv': hygieneFiles['erp.csv']
      .split('\n')
      .filter((line) => !line.startsWith('ENGRAVING,'))
      .join('\n'),
  };
  let shop: ShopWorkspace;
  before(async () => {
    shop = await pulledShop(seed, files);
  });
  after(() => shop.close());

  it('the bundle is limited by its other components, not zeroed; sync --commit writes that', async () => {
    const json = stdoutJson(await shop.cli(['diff', '--format', 'json']));
    assert.deepEqual(
      json.rows.filter((r: any) => r.sku === 'TEE-ENGRAVED').map((r: any) => [r.locationName, r.target, r.observed, r.status]),
      [
        ['Downtown', 3, 50, 'change'],
        ['Main Warehouse', 10, 50, 'change'],
        ['Old Store', 9, null, 'inactive-location'],
      ],
    );
    assert.ok(
      json.issues.includes('bundle component "ENGRAVING" is not in the ERP export and Shopify does not track its quantities: it does not limit its bundles'),
      json.issues.join('\n'),
    );
    const synced = await shop.cli(['sync', '--commit']);
    assert.equal(synced.code, 0, synced.stderr);
    assert.equal(shop.emulator.state.level(KIT, MAIN)!.available, 10);
    assert.equal(shop.emulator.state.level(KIT, DOWNTOWN)!.available, 3);
  });
});

describe('apply: an item untracked or a location deactivated since the plan', () => {
  // The plan is made while everything is tracked and active; the shop it is applied to has since changed.
  let planning: ShopWorkspace;
  let changed: RunningEmulator;
  before(async () => {
    planning = await openShopWorkspace({ seed: hygieneSeedBefore, files: hygieneFiles });
    changed = await startEmulator({ seed: hygieneSeed, port: 0 });
    for (const args of [
      ['pull', 'erp'],
      ['pull', 'shopify'],
      ['plan', '--out', 'plan.json'],
    ]) {
      const result = await planning.cli(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
  });
  after(async () => {
    await changed.close();
    await planning.close();
  });

  it('reports those rows as failed with the reason, applies the rest, and moves nothing there (exit 3)', async () => {
    const plan = readPlan(join(planning.dir, 'plan.json'));
    assert.equal(plan.changes.length, 6);
    const result = await planning.cli(['apply', 'plan.json', '--commit'], { INVRECON_SHOPIFY_ENDPOINT: changed.url });
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.stdout,
      /^failed: ENGRAVING @ Main Warehouse: planned 0 → 12: NON_MUTABLE_INVENTORY_ITEM: .*\(Shopify takes no quantities for this item: untracked since the plan, or a bundle; a new plan leaves untracked items out\)$/m,
    );
    assert.match(result.stdout, /^failed: ENGRAVING @ Downtown: planned 7 → 0: NON_MUTABLE_INVENTORY_ITEM: /m);
    assert.match(
      result.stdout,
      /^failed: TEE-RED-M @ Old Store: planned 4 → 9: INVALID_LOCATION: .*\(the location was deactivated or removed since the plan; a new plan leaves inactive locations out\)$/m,
    );
    assert.match(result.stdout, /^Applied 3, .* failed 3 /m);
    // The other rows of the refused calls went again and were applied; nothing moved where Shopify refused.
    assert.equal(changed.state.level(TEE, MAIN)!.available, 10);
    assert.equal(changed.state.level(MUG, MAIN)!.available, 24);
    assert.equal(changed.state.level(CAP, MAIN)!.available, 0);
    assert.equal(changed.state.level(ENGRAVING, MAIN)!.available, 0);
    assert.equal(changed.state.level(ENGRAVING, DOWNTOWN)!.available, 7);
    assert.equal(changed.state.level(TEE, OLD)!.available, 4);
    const log = stdoutJson(await planning.cli(['log', '--format', 'json']));
    const failedCalls = log.calls.filter((c: any) => c.outcome === 'failed');
    assert.ok(failedCalls.length > 0, JSON.stringify(log.calls));
  });
});
