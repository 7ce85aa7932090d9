import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { driftExitCode } from '../../../src/cli/commands/diff.js';
import { buildPlan } from '../../../src/plan/build.js';
import { readPlan } from '../../../src/plan/file.js';
import { brief, closedStoreShop, ITEM, LEFT_OUT_LOCATIONS, LEFT_OUT_MAPPINGS, leftOutShop, LOC, rowOf, workspace, type Workspace } from './helpers.js';

// Levels Shopify has but does not count: of untracked items, at inactive locations. Left out of plans,
// never drift, not compared, and counted.

function open(t: TestContext): Workspace {
  const ws = workspace();
  t.after(() => ws.close());
  return ws;
}

const LOCATIONS = LEFT_OUT_LOCATIONS;
const MAPPINGS = LEFT_OUT_MAPPINGS;

describe('computeDiff: untracked items and inactive locations', () => {
  it('leaves their levels out: a status of their own, no delta, no drift, not compared, counted', (t) => {
    const ws = open(t);
    const config = leftOutShop(ws);
    const result = ws.diff(config);
    assert.deepEqual(brief(result), [
      ['SVC', 'Main', 12, 0, 'untracked'],
      ['TEE', 'Main', 10, 5, 'change'],
      // An inactive location wins over an untracked item: the location is what the merchant must fix first.
      ['SVC', 'Old Store', 1, 3, 'inactive-location'],
      ['TEE', 'Old Store', 9, 4, 'inactive-location'],
    ]);
    assert.equal(rowOf(result, 'SVC', LOC(1)).delta, null);
    assert.equal(
      rowOf(result, 'SVC', LOC(1)).reason,
      "left out: Shopify does not track this item's quantities (InventoryItem.tracked false); ERP: on_hand 12 − reserved 0 − safety 0 (safetyStock.default) = 12",
    );
    assert.match(rowOf(result, 'TEE', LOC(2)).reason, /^left out: the Shopify location is inactive \(deactivated\); ERP: on_hand 9/);
    assert.deepEqual(result.summary.leftOut, { levels: 3, ofUntrackedItems: 1, atInactiveLocations: 2 });
    assert.equal(result.summary.reported.untracked, 1);
    assert.equal(result.summary.reported['inactive-location'], 2);
    assert.equal(result.summary.levelsCompared, 1);
    assert.equal(result.summary.stocked, 1);
    assert.equal(result.summary.levelsDrifting, 1);
    assert.deepEqual(
      result.summary.byLocation.map((l) => [l.locationName, l.levelsCompared, l.stocked, l.leftOut]),
      [
        ['Main', 1, 1, 1],
        ['Old Store', 0, 0, 2],
      ],
    );
    assert.deepEqual(result.issues, [
      'locations[1].shopifyLocation: "Old Store" is inactive in Shopify (deactivated): nothing is written there, 2 levels left out; reactivate it, or remove this entry from "locations" (map "WH-OLD" to another location only if that stock has really moved there)',
      '1 SKU left out (1 level): Shopify does not track its quantities, so nothing is written for it: "SVC"; turn on "Track quantity" in Shopify to reconcile it',
    ]);
  });

  it('a closed store with no levels left, and untracked items with no level: left out and counted, not "not-stocked"', (t) => {
    const ws = open(t);
    const result = ws.diff(closedStoreShop(ws), { all: true });
    // MUG at Old Store and GIFT at Main: no level and nothing to sell there, so no line.
    assert.deepEqual(brief(result), [
      ['MUG', 'Main', 2, 2, 'ok'],
      ['SVC', 'Main', 12, null, 'untracked'],
      ['TEE', 'Main', 10, 5, 'change'],
      ['TEE', 'Old Store', 9, null, 'inactive-location'],
    ]);
    assert.match(rowOf(result, 'TEE', LOC(2)).reason, /^left out: the Shopify location is inactive/);
    assert.equal(result.summary.reported['not-stocked'], 0);
    assert.deepEqual(result.summary.leftOut, { levels: 2, ofUntrackedItems: 1, atInactiveLocations: 1 });
    assert.equal(result.summary.levelsCompared, 2);
    assert.match(result.issues[0]!, /"Old Store" is inactive in Shopify \(deactivated\): nothing is written there, 1 level left out;/);
    assert.match(result.issues[1]!, /^1 SKU left out \(1 level\): .*"SVC"/);
  });

  it('a bundle at a closed store with no level there is left out too (the per-level rule the bundles use)', (t) => {
    const ws = open(t);
    const result = ws.diff(closedStoreShop(ws, 'bundle_sku,component_sku,quantity\nKIT,TEE,1\n'), { all: true });
    assert.deepEqual(
      brief(result).filter(([sku]) => sku === 'KIT'),
      [
        ['KIT', 'Main', 10, 1, 'change'],
        ['KIT', 'Old Store', 9, null, 'inactive-location'],
      ],
    );
    assert.equal(result.summary.reported['not-stocked'], 0);
  });

  it('are no drift for the CI gate, and filters count them like any row', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: MAPPINGS });
    ws.erp([
      { sku: 'A', wh: 'WH-A', onHand: 4 },
      { sku: 'B', wh: 'WH-OLD', onHand: 6 },
    ]);
    ws.shopify({
      locations: LOCATIONS,
      untracked: [ITEM(1)],
      levels: [
        { sku: 'A', item: ITEM(1), location: LOC(1), available: 0 },
        { sku: 'B', item: ITEM(2), location: LOC(2), available: 1 },
      ],
    });
    const all = ws.diff(config);
    assert.equal(driftExitCode(all.summary, { detailedExitcode: true, gate: 'all' }), 0);
    assert.deepEqual(ws.diff(config, { sku: 'A' }).summary.leftOut, { levels: 1, ofUntrackedItems: 1, atInactiveLocations: 0 });
    assert.deepEqual(ws.diff(config, { location: 'Old Store' }).summary.leftOut, { levels: 1, ofUntrackedItems: 0, atInactiveLocations: 1 });
  });

  it('names at most 10 untracked SKUs, and says how many more', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: [MAPPINGS[0]!] });
    const skus = Array.from({ length: 12 }, (_, i) => `SVC-${String(i).padStart(2, '0')}`);
    ws.erp(skus.map((sku) => ({ sku, wh: 'WH-A', onHand: 1 })));
    ws.shopify({
      locations: [LOCATIONS[0]!],
      untracked: skus.map((_, i) => ITEM(i + 1)),
      levels: skus.map((sku, i) => ({ sku, item: ITEM(i + 1), location: LOC(1), available: 0 })),
    });
    const [issue] = ws.diff(config).issues;
    assert.match(issue!, /^12 SKUs left out \(12 levels\): .*"SVC-09" and 2 more; turn on "Track quantity"/);
  });

  it('an inactive location that nobody maps is no issue; with a same-named active one, the name means the active one', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main' }] });
    ws.erp([{ sku: 'A', wh: 'WH-A', onHand: 4 }]);
    ws.shopify({
      locations: [
        { id: LOC(1), name: 'Main' },
        { id: LOC(2), name: 'Main', isActive: false },
        { id: LOC(3), name: 'Closed Kiosk', isActive: false },
      ],
      levels: [
        { sku: 'A', item: ITEM(1), location: LOC(1), available: 1 },
        { sku: 'A', item: ITEM(1), location: LOC(3), available: 2 },
      ],
    });
    const result = ws.diff(config);
    assert.deepEqual(result.issues, []);
    assert.deepEqual(brief(result), [['A', 'Main', 4, 1, 'change']]);
  });

  it('shopify-only levels (unknownSkus zero) are left out too, never zeroed', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: MAPPINGS, unknownSkus: 'zero' });
    ws.erp([{ sku: 'KNOWN', wh: 'WH-A', onHand: 1 }]);
    ws.shopify({
      locations: LOCATIONS,
      untracked: [ITEM(2)],
      levels: [
        { sku: 'KNOWN', item: ITEM(1), location: LOC(1), available: 1 },
        { sku: 'GIFT-CARD', item: ITEM(2), location: LOC(1), available: 5 },
        { sku: 'OLD-STOCK', item: ITEM(3), location: LOC(2), available: 7 },
        { sku: 'OLD-STOCK', item: ITEM(3), location: LOC(1), available: 2 },
      ],
    });
    const result = ws.diff(config);
    assert.deepEqual(
      result.rows.map((r) => [r.sku, r.locationName, r.target, r.status]),
      [
        ['GIFT-CARD', 'Main', null, 'untracked'],
        ['OLD-STOCK', 'Main', 0, 'change'],
        ['OLD-STOCK', 'Old Store', null, 'inactive-location'],
      ],
    );
    assert.equal(
      rowOf(result, 'GIFT-CARD', LOC(1)).reason,
      "left out: Shopify does not track this item's quantities (InventoryItem.tracked false); not in the ERP export",
    );
  });

  it('bundles: a bundle whose Shopify item is untracked is left out; its components still count', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: [MAPPINGS[0]!] }, 'bundle_sku,component_sku,quantity\nKIT,PART,2\n');
    ws.erp([{ sku: 'PART', wh: 'WH-A', onHand: 10 }]);
    ws.shopify({
      locations: [LOCATIONS[0]!],
      untracked: [ITEM(2)],
      levels: [
        { sku: 'PART', item: ITEM(1), location: LOC(1), available: 10 },
        { sku: 'KIT', item: ITEM(2), location: LOC(1), available: 1 },
      ],
    });
    const result = ws.diff(config, { all: true });
    assert.deepEqual(brief(result), [
      ['KIT', 'Main', 5, 1, 'untracked'],
      ['PART', 'Main', 10, 10, 'ok'],
    ]);
    assert.deepEqual(result.summary.leftOut, { levels: 1, ofUntrackedItems: 1, atInactiveLocations: 0 });
  });

  it('bundles: an untracked component the ERP does not list does not limit them; one the ERP lists counts as the ERP says', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: [MAPPINGS[0]!] }, 'bundle_sku,component_sku,quantity\nKIT,SVC,1\nKIT,TEE,1\nBOXED,BOX,1\nBOXED,TEE,1\nWRAP,SVC,1\n');
    ws.erp([
      { sku: 'TEE', wh: 'WH-A', onHand: 7 },
      { sku: 'BOX', wh: 'WH-A', onHand: 2 },
    ]);
    ws.shopify({
      locations: [LOCATIONS[0]!],
      untracked: [ITEM(2), ITEM(3)],
      levels: [
        { sku: 'TEE', item: ITEM(1), location: LOC(1), available: 7 },
        { sku: 'SVC', item: ITEM(2), location: LOC(1), available: 0 },
        { sku: 'BOX', item: ITEM(3), location: LOC(1), available: 0 },
        { sku: 'KIT', item: ITEM(4), location: LOC(1), available: 50 },
        { sku: 'BOXED', item: ITEM(5), location: LOC(1), available: 50 },
        { sku: 'WRAP', item: ITEM(6), location: LOC(1), available: 4 },
      ],
    });
    const result = ws.diff(config, { all: true });
    assert.deepEqual(
      brief(result).filter(([sku]) => ['KIT', 'BOXED', 'WRAP'].includes(sku)),
      [
        ['BOXED', 'Main', 2, 50, 'change'],
        ['KIT', 'Main', 7, 50, 'change'],
      ],
    );
    assert.match(rowOf(result, 'KIT', LOC(1)).reason, /\(limited by TEE\)/);
    assert.match(rowOf(result, 'BOXED', LOC(1)).reason, /\(limited by BOX\)/);
    assert.deepEqual(
      result.issues.filter((i) => i.startsWith('bundle')),
      [
        'bundle component "SVC" is not in the ERP export and Shopify does not track its quantities: it does not limit its bundles',
        'bundle "WRAP": none of its components limits it (each is untracked and not in the ERP export): left as it is in Shopify',
      ],
    );
  });
});

describe('plan guards are not fooled by left-out levels', () => {
  it('untracked stock neither dilutes the zeroed share nor keeps an emptied location looking stocked', (t) => {
    const ws = open(t);
    const config = ws.config({
      locations: [
        { warehouses: ['WH-A'], shopifyLocation: 'Main' },
        { warehouses: ['WH-S'], shopifyLocation: 'Store' },
        { warehouses: ['WH-OLD'], shopifyLocation: 'Old Store' },
      ],
      guards: { maxChanges: 100, maxZeroedShare: 0.2, maxRowDrop: 0.5 },
    });
    const untracked = Array.from({ length: 8 }, (_, i) => `SVC-${i}`);
    ws.erp([
      // Main: 2 of 4 tracked levels go to 0 (50%): counting the 8 untracked levels would make it 2 of 12 (17%).
      { sku: 'A', wh: 'WH-A', onHand: 0 },
      { sku: 'B', wh: 'WH-A', onHand: 0 },
      { sku: 'C', wh: 'WH-A', onHand: 4 },
      { sku: 'D', wh: 'WH-A', onHand: 4 },
      ...untracked.map((sku) => ({ sku, wh: 'WH-A', onHand: 1 })),
      // Store: its one tracked level goes to 0; the untracked one there shows stock, which sells regardless.
      { sku: 'S', wh: 'WH-S', onHand: 0 },
      { sku: 'SVC-0', wh: 'WH-S', onHand: 5 },
      // Old Store (inactive): the ERP emptied it; nothing is written there, so nothing is zeroed.
      { sku: 'C', wh: 'WH-OLD', onHand: 0 },
    ]);
    ws.shopify({
      locations: [
        { id: LOC(1), name: 'Main' },
        { id: LOC(2), name: 'Store' },
        { id: LOC(3), name: 'Old Store', isActive: false },
      ],
      untracked: untracked.map((_, i) => ITEM(100 + i)),
      levels: [
        { sku: 'A', item: ITEM(1), location: LOC(1), available: 5 },
        { sku: 'B', item: ITEM(2), location: LOC(1), available: 3 },
        { sku: 'C', item: ITEM(3), location: LOC(1), available: 4 },
        { sku: 'D', item: ITEM(4), location: LOC(1), available: 4 },
        ...untracked.map((sku, i) => ({ sku, item: ITEM(100 + i), location: LOC(1), available: 1 })),
        { sku: 'S', item: ITEM(5), location: LOC(2), available: 2 },
        { sku: 'SVC-0', item: ITEM(100), location: LOC(2), available: 5 },
        { sku: 'C', item: ITEM(3), location: LOC(3), available: 6 },
      ],
    });
    const { header, path } = buildPlan(ws.db, config, {}, { out: join(ws.dir, 'plan.json') });
    const check = (name: string) => header.guards.checks.find((c) => c.name === name)!;
    assert.equal(check('maxZeroedShare').ok, false);
    assert.match(check('maxZeroedShare').message, /^3 of 5 levels set to 0/);
    assert.equal(check('emptiedLocations').ok, false);
    assert.equal(check('emptiedLocations').message, 'the plan sets every level with stock to 0 at Store (1 of 1)');
    assert.deepEqual(header.summary.leftOut, { levels: 10, ofUntrackedItems: 9, atInactiveLocations: 1 });
    assert.equal(header.summary.levelsCompared, 5);
    const plan = readPlan(path);
    assert.deepEqual(plan.changes.map((c) => [c.sku, c.locationName, c.from, c.to]).sort(), [
      ['A', 'Main', 5, 0],
      ['B', 'Main', 3, 0],
      ['S', 'Store', 2, 0],
    ]);
    assert.deepEqual(plan.summary.leftOut, header.summary.leftOut);
  });

  it('a closed store whose warehouse leaves the export: neither warehousesPresent nor maxRowDrop refuse the plan', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: MAPPINGS, guards: { maxChanges: 100, maxZeroedShare: 0.5, maxRowDrop: 0.5 } });
    const shop = { locations: LOCATIONS, levels: [{ sku: 'A', item: ITEM(1), location: LOC(1), available: 1 }] };
    // WH-OLD was most of the export; it has none now. Every row something can be written for is still there.
    ws.erp([{ sku: 'A', wh: 'WH-A', onHand: 4 }, ...['A', 'B', 'C'].map((sku) => ({ sku, wh: 'WH-OLD', onHand: 2 }))]);
    ws.erp([{ sku: 'A', wh: 'WH-A', onHand: 4 }]);
    ws.shopify(shop);
    const { header } = buildPlan(ws.db, config, {}, { out: join(ws.dir, 'plan.json') });
    const check = (name: string) => header.guards.checks.find((c) => c.name === name)!;
    assert.ok(header.guards.applyable, JSON.stringify(header.guards.checks));
    assert.equal(check('maxRowDrop').value, 0);
    assert.match(
      check('maxRowDrop').message,
      /^ERP rows 1 in the previous ERP snapshot \(#1\) → 1 \(drop 0\.0%; .*; not counting "WH-OLD", mapped to an inactive location\)$/,
    );
    assert.match(check('warehousesPresent').message, /is still there; not counting "WH-OLD", mapped to an inactive location$/);
    assert.deepEqual(
      header.guards.references?.map((r) => [r.rows, r.vanishedWarehouses]),
      [[1, []]],
    );

    // The same export with Old Store active again: the missing warehouse is refused, as any mapped one.
    const reopened = ws.config({ locations: MAPPINGS, guards: { maxChanges: 100, maxZeroedShare: 0.5, maxRowDrop: 0.5 } });
    ws.shopify({ ...shop, locations: LOCATIONS.map((l) => ({ ...l, isActive: true })) });
    const refused = buildPlan(ws.db, reopened, {}, { out: join(ws.dir, 'plan2.json') }).header;
    assert.deepEqual(
      refused.guards.checks.filter((c) => !c.ok).map((c) => c.name),
      ['maxRowDrop', 'warehousesPresent'],
    );
  });
});
