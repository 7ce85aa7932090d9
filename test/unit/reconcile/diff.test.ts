import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { InputError, UsageError } from '../../../src/errors.js';
import { driftExitCode } from '../../../src/cli/commands/diff.js';
import { brief, ITEM, LOC, rowOf, TWO_LOCATIONS, TWO_MAPPINGS, workspace, type Workspace } from './helpers.js';

function open(t: TestContext): Workspace {
  const ws = workspace();
  t.after(() => ws.close());
  return ws;
}

describe('computeDiff: available and safety stock', () => {
  it('pools warehouses of one location before subtracting; sums the ERP safety column where present', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: [{ warehouses: ['WH-A', 'WH-A2'], shopifyLocation: 'Main' }], safetyStock: { default: 1 } });
    ws.erp([
      // Pooled: 10 + 5 on hand, 2 + 1 reserved, safety only on WH-A2 (3): 15 − 3 − 3 = 9.
      { sku: 'P', wh: 'WH-A', onHand: 10, reserved: 2 },
      { sku: 'P', wh: 'WH-A2', onHand: 5, reserved: 1, safety: 3 },
      // Both columns: 2 + 4 = 6 safety; 20 − 0 − 6 = 14.
      { sku: 'Q', wh: 'WH-A', onHand: 10, safety: 2 },
      { sku: 'Q', wh: 'WH-A2', onHand: 10, safety: 4 },
      // No column anywhere: the config default (1) applies once to the pool, not per warehouse: 4 + 4 − 1 = 7.
      { sku: 'R', wh: 'WH-A', onHand: 4 },
      { sku: 'R', wh: 'WH-A2', onHand: 4 },
      // Reserved in one warehouse is covered by on hand in another: 0 + 6 − 5 − 1 = 0, not clamped.
      { sku: 'S', wh: 'WH-A', onHand: 0, reserved: 5 },
      { sku: 'S', wh: 'WH-A2', onHand: 6 },
    ]);
    ws.shopify({
      locations: [{ id: LOC(1), name: 'Main' }],
      levels: ['P', 'Q', 'R', 'S'].map((sku, i) => ({ sku, item: ITEM(i + 1), location: LOC(1), available: 1 })),
    });
    const result = ws.diff(config, { all: true });
    assert.deepEqual(
      result.rows.map((r) => [r.sku, r.target, r.erp]),
      [
        ['P', 9, { onHand: 15, reserved: 3, safetyStock: 3, safetySource: 'erp', shopifyCommitted: 0, available: 9, clamped: false }],
        ['Q', 14, { onHand: 20, reserved: 0, safetyStock: 6, safetySource: 'erp', shopifyCommitted: 0, available: 14, clamped: false }],
        ['R', 7, { onHand: 8, reserved: 0, safetyStock: 1, safetySource: 'default', shopifyCommitted: 0, available: 7, clamped: false }],
        ['S', 0, { onHand: 6, reserved: 5, safetyStock: 1, safetySource: 'default', shopifyCommitted: 0, available: 0, clamped: false }],
      ],
    );
    assert.equal(rowOf(result, 'P', LOC(1)).reason, 'on_hand 15 − reserved 3 − safety 3 (ERP column) = 9');
  });

  it('resolves safety stock per location: ERP column > bySku > byCategory > byLocation (by name) > default', (t) => {
    const ws = open(t);
    const config = ws.config({
      locations: TWO_MAPPINGS,
      safetyStock: { default: 1, byLocation: { Store: 4 }, byCategory: { apparel: 3 }, bySku: { 'TEE-SKU': 2 } },
    });
    ws.erp([
      { sku: 'TEE-ERP', wh: 'WH-S', onHand: 20, safety: 0, category: 'apparel' },
      { sku: 'TEE-SKU', wh: 'WH-S', onHand: 20, category: 'apparel' },
      { sku: 'TEE-CAT', wh: 'WH-S', onHand: 20, category: 'apparel' },
      { sku: 'MUG', wh: 'WH-S', onHand: 20, category: 'homeware' },
      { sku: 'MUG', wh: 'WH-A', onHand: 20, category: 'homeware' },
    ]);
    ws.shopify({
      locations: TWO_LOCATIONS,
      levels: [
        { sku: 'TEE-ERP', item: ITEM(1), location: LOC(2), available: 0 },
        { sku: 'TEE-SKU', item: ITEM(2), location: LOC(2), available: 0 },
        { sku: 'TEE-CAT', item: ITEM(3), location: LOC(2), available: 0 },
        { sku: 'MUG', item: ITEM(4), location: LOC(2), available: 0 },
        { sku: 'MUG', item: ITEM(4), location: LOC(1), available: 0 },
      ],
    });
    const result = ws.diff(config);
    assert.deepEqual(
      result.rows.map((r) => [r.sku, r.locationName, r.erp?.safetyStock, r.erp?.safetySource, r.target]),
      [
        ['MUG', 'Main', 1, 'default', 19],
        ['MUG', 'Store', 4, 'byLocation', 16],
        ['TEE-CAT', 'Store', 3, 'byCategory', 17],
        ['TEE-ERP', 'Store', 0, 'erp', 20],
        ['TEE-SKU', 'Store', 2, 'bySku', 18],
      ],
    );
    assert.match(rowOf(result, 'MUG', LOC(2)).reason, /safety 4 \(safetyStock\.byLocation\) = 16$/);
  });

  it('treats a SKU the ERP lists but not in a location’s warehouses as an empty bin (0 on hand there)', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: TWO_MAPPINGS });
    ws.erp([{ sku: 'A', wh: 'WH-A', onHand: 9 }]);
    ws.shopify({
      locations: TWO_LOCATIONS,
      levels: [
        { sku: 'A', item: ITEM(1), location: LOC(1), available: 9 },
        { sku: 'A', item: ITEM(1), location: LOC(2), available: 4 },
      ],
    });
    const result = ws.diff(config);
    assert.deepEqual(brief(result), [['A', 'Store', 0, 4, 'change']]);
    assert.deepEqual(rowOf(result, 'A', LOC(2)).erp, {
      onHand: 0,
      reserved: 0,
      safetyStock: 0,
      safetySource: 'default',
      shopifyCommitted: 0,
      available: 0,
      clamped: false,
    });
    assert.equal(rowOf(result, 'A', LOC(2)).delta, -4);
  });

  it('clamps at 0 and reports it, saying when reserved exceeds on hand', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: TWO_MAPPINGS, safetyStock: { byLocation: { Store: 2 } } });
    ws.erp([
      { sku: 'BAD', wh: 'WH-A', onHand: 3, reserved: 5 },
      { sku: 'LOW', wh: 'WH-S', onHand: 1 },
    ]);
    ws.shopify({
      locations: TWO_LOCATIONS,
      levels: [
        { sku: 'BAD', item: ITEM(1), location: LOC(1), available: 1 },
        { sku: 'LOW', item: ITEM(2), location: LOC(2), available: 1 },
      ],
    });
    const result = ws.diff(config);
    assert.deepEqual(brief(result), [
      ['BAD', 'Main', 0, 1, 'change'],
      ['LOW', 'Store', 0, 1, 'change'],
    ]);
    assert.equal(
      rowOf(result, 'BAD', LOC(1)).reason,
      'on_hand 3 − reserved 5 − safety 0 (safetyStock.default) = 0 (reserved exceeds on hand: clamped to 0, check the ERP data)',
    );
    assert.equal(rowOf(result, 'LOW', LOC(2)).reason, 'on_hand 1 − reserved 0 − safety 2 (safetyStock.byLocation) = 0 (clamped to 0)');
    assert.equal(rowOf(result, 'BAD', LOC(1)).erp?.clamped, true);
    assert.equal(result.summary.reported.clamped, 2);
  });

  it("subtracts Shopify's committed only with shopifyCommitted: subtract", (t) => {
    const ws = open(t);
    ws.erp([{ sku: 'A', wh: 'WH-A', onHand: 10, reserved: 1 }]);
    ws.shopify({ locations: TWO_LOCATIONS, levels: [{ sku: 'A', item: ITEM(1), location: LOC(1), available: 6, committed: 3 }] });
    const inReserved = ws.diff(ws.config({ locations: TWO_MAPPINGS }));
    assert.deepEqual(brief(inReserved), [['A', 'Main', 9, 6, 'change']]);
    assert.equal(inReserved.rows[0]!.erp?.shopifyCommitted, 0);
    const subtract = ws.diff(ws.config({ locations: TWO_MAPPINGS, shopifyCommitted: 'subtract' }));
    assert.deepEqual(brief(subtract), []);
    const all = ws.diff(ws.config({ locations: TWO_MAPPINGS, shopifyCommitted: 'subtract' }), { all: true });
    assert.deepEqual(brief(all), [['A', 'Main', 6, 6, 'ok']]);
    assert.equal(all.rows[0]!.reason, 'on_hand 10 − reserved 1 − safety 0 (safetyStock.default) − Shopify committed 3 = 6');
  });
});

describe('computeDiff: locations', () => {
  it('reports an unmapped warehouse, a mapped location missing from Shopify, and an unmapped location with stock', (t) => {
    const ws = open(t);
    const config = ws.config({
      locations: [
        { warehouses: ['WH-A'], shopifyLocation: LOC(1) },
        { warehouses: ['WH-GONE'], shopifyLocation: 'Closed Store' },
      ],
    });
    ws.erp([
      { sku: 'A', wh: 'WH-A', onHand: 5 },
      { sku: 'A', wh: 'WH-X', onHand: 50 },
      { sku: 'B', wh: 'WH-X', onHand: 50 },
    ]);
    ws.shopify({
      locations: [...TWO_LOCATIONS, { id: LOC(3), name: 'Empty' }],
      levels: [
        { sku: 'A', item: ITEM(1), location: LOC(1), available: 5 },
        { sku: 'A', item: ITEM(1), location: LOC(2), available: 7 },
        { sku: 'B', item: ITEM(2), location: LOC(2), available: 2 },
      ],
    });
    const result = ws.diff(config, { all: true });
    assert.deepEqual(result.issues, [
      'locations[1].shopifyLocation: no Shopify location is named "Closed Store"',
      'ERP warehouse "WH-X" is not mapped to a Shopify location (2 rows ignored)',
      'Shopify location "Store" (gid://shopify/Location/2) stocks 2 items but no ERP warehouse is mapped to it: left as it is',
    ]);
    // Nothing is guessed: WH-X's stock goes nowhere, Store is left alone.
    assert.deepEqual(brief(result), [['A', 'Main', 5, 5, 'ok']]);
  });

  it('does not call the warehouses of a mapping whose location is missing "not mapped"', (t) => {
    const ws = open(t);
    const config = ws.config({
      locations: [
        { warehouses: ['WH-A'], shopifyLocation: 'Main' },
        { warehouses: ['WH-GONE'], shopifyLocation: 'Closed Store' },
      ],
    });
    ws.erp([
      { sku: 'A', wh: 'WH-A', onHand: 5 },
      { sku: 'A', wh: 'WH-GONE', onHand: 3 },
    ]);
    ws.shopify({ locations: TWO_LOCATIONS, levels: [{ sku: 'A', item: ITEM(1), location: LOC(1), available: 5 }] });
    assert.deepEqual(ws.diff(config).issues, [
      'locations[1].shopifyLocation: no Shopify location is named "Closed Store"',
      'ERP warehouse "WH-GONE" belongs to locations[1], which cannot be used (see above) (1 row ignored)',
    ]);
  });

  it('reports a location name shared by two Shopify locations and one location mapped twice', (t) => {
    const ws = open(t);
    const config = ws.config({
      locations: [
        { warehouses: ['WH-K'], shopifyLocation: 'Kiosk' },
        { warehouses: ['WH-A'], shopifyLocation: 'Main' },
        { warehouses: ['WH-A2'], shopifyLocation: LOC(1) },
      ],
    });
    ws.erp([
      { sku: 'A', wh: 'WH-A', onHand: 5 },
      { sku: 'A', wh: 'WH-A2', onHand: 5 },
    ]);
    ws.shopify({
      locations: [
        { id: LOC(1), name: 'Main' },
        { id: LOC(3), name: 'Kiosk' },
        { id: LOC(4), name: 'Kiosk' },
      ],
      levels: [{ sku: 'A', item: ITEM(1), location: LOC(1), available: 4 }],
    });
    const result = ws.diff(config);
    assert.equal(result.issues[0], `locations[0].shopifyLocation: 2 Shopify locations are named "Kiosk"; use the id (${LOC(3)}, ${LOC(4)})`);
    assert.equal(result.issues[1], 'locations[2].shopifyLocation: "Main" is already mapped by locations[1]; list all its warehouses in one entry');
    assert.equal(result.issues[2], 'ERP warehouse "WH-A2" belongs to locations[2], which cannot be used (see above) (1 row ignored)');
    assert.equal(result.issues.length, 3);
    // Only the first mapping of Main counts: 5, not 10.
    assert.deepEqual(brief(result), [['A', 'Main', 5, 4, 'change']]);
  });
});

describe('computeDiff: SKUs on one side only', () => {
  function scene(ws: Workspace) {
    ws.erp([
      { sku: 'ERP-ONLY', wh: 'WH-A', onHand: 4 },
      { sku: 'BOTH', wh: 'WH-A', onHand: 3 },
      { sku: 'BOTH', wh: 'WH-S', onHand: 2 },
      { sku: 'SHARED', wh: 'WH-A', onHand: 2 },
      { sku: 'ZERO', wh: 'WH-S', onHand: 0 },
    ]);
    ws.shopify({
      locations: TWO_LOCATIONS,
      items: [
        { id: ITEM(1), sku: 'BOTH' },
        { id: ITEM(2), sku: 'SHOP-ONLY' },
        { id: ITEM(3), sku: 'SHARED' },
        { id: ITEM(4), sku: 'SHARED' },
        { id: ITEM(5), sku: 'ZERO' },
        { id: ITEM(6), sku: null },
      ],
      levels: [
        { sku: 'BOTH', item: ITEM(1), location: LOC(1), available: 3 },
        { sku: 'SHOP-ONLY', item: ITEM(2), location: LOC(1), available: 6 },
        { sku: 'SHOP-ONLY', item: ITEM(2), location: LOC(2), available: 0 },
        { sku: 'SHARED', item: ITEM(3), location: LOC(1), available: 1 },
        { sku: 'SHARED', item: ITEM(4), location: LOC(1), available: 1 },
        { sku: null, item: ITEM(6), location: LOC(1), available: 2 },
      ],
    });
  }

  it('reports ERP-only SKUs as not-in-shopify, item not stocked, and shared SKUs, none of them drift', (t) => {
    const ws = open(t);
    scene(ws);
    const result = ws.diff(ws.config({ locations: TWO_MAPPINGS }));
    assert.deepEqual(brief(result), [
      ['ERP-ONLY', 'Main', 4, null, 'not-in-shopify'],
      ['SHARED', 'Main', 2, null, 'ambiguous-sku'],
      // BOTH at Store: the ERP has 2 there but Shopify does not stock the item there.
      ['BOTH', 'Store', 2, null, 'not-stocked'],
      // ZERO at Store: not stocked, but nothing to sell either: not worth a line.
    ]);
    assert.equal(rowOf(result, 'ERP-ONLY', LOC(1)).delta, null);
    assert.equal(
      rowOf(result, 'ERP-ONLY', LOC(1)).reason,
      'not in Shopify (no item has this SKU): on_hand 4 − reserved 0 − safety 0 (safetyStock.default) = 4',
    );
    assert.equal(rowOf(result, 'SHARED', LOC(1)).reason, 'several Shopify items share this SKU: not changed');
    assert.equal(result.summary.levelsDrifting, 0);
    assert.equal(result.summary.levelsCompared, 1);
    assert.deepEqual(result.summary.reported, {
      'erp-correction': 0,
      conflict: 0,
      'not-in-shopify': 1,
      'not-stocked': 1,
      'not-in-erp': 0,
      'ambiguous-sku': 1,
      untracked: 0,
      'inactive-location': 0,
      clamped: 0,
    });
    assert.equal(driftExitCode(result.summary, { detailedExitcode: true }), 0);
  });

  it('unknownSkus: ignore (default) leaves Shopify-only SKUs out', (t) => {
    const ws = open(t);
    scene(ws);
    const result = ws.diff(ws.config({ locations: TWO_MAPPINGS }), { all: true });
    assert.equal(result.rows.filter((r) => r.sku === 'SHOP-ONLY').length, 0);
  });

  it('unknownSkus: report lists them without a target', (t) => {
    const ws = open(t);
    scene(ws);
    const result = ws.diff(ws.config({ locations: TWO_MAPPINGS, unknownSkus: 'report' }), { sku: 'SHOP-*' });
    assert.deepEqual(brief(result), [
      ['SHOP-ONLY', 'Main', null, 6, 'not-in-erp'],
      ['SHOP-ONLY', 'Store', null, 0, 'not-in-erp'],
    ]);
    assert.equal(result.rows[0]!.erp, null);
    assert.equal(result.rows[0]!.reason, 'not in the ERP export (unknownSkus: report)');
    assert.equal(result.summary.levelsDrifting, 0);
    assert.equal(result.summary.reported['not-in-erp'], 2);
  });

  it('unknownSkus: zero sets them to 0 where the ERP is the authority', (t) => {
    const ws = open(t);
    scene(ws);
    const config = ws.config({
      locations: [
        { warehouses: ['WH-A'], shopifyLocation: 'Main' },
        { warehouses: ['WH-S'], shopifyLocation: 'Store', authority: 'shopify' },
      ],
      unknownSkus: 'zero',
    });
    const result = ws.diff(config, { sku: 'SHOP-*', all: true });
    assert.deepEqual(brief(result), [
      ['SHOP-ONLY', 'Main', 0, 6, 'change'],
      // Shopify decides at Store: no zeroing there, only a report.
      ['SHOP-ONLY', 'Store', null, 0, 'not-in-erp'],
    ]);
    assert.equal(result.rows[0]!.delta, -6);
    assert.equal(result.rows[0]!.reason, 'not in the ERP export (unknownSkus: zero)');
    assert.equal(ws.diff(config, { sku: 'SHOP-*', location: 'Main' }).summary.oversell.units, 6);
  });
});

describe('computeDiff: authority', () => {
  it('per location and per category, the category winning', (t) => {
    const ws = open(t);
    const config = ws.config({
      locations: [
        { warehouses: ['WH-A'], shopifyLocation: 'Main', authority: 'shopify' },
        { warehouses: ['WH-S'], shopifyLocation: 'Store' },
      ],
      authority: { default: 'erp', byCategory: { web: 'erp', pos: 'shopify' } },
    });
    ws.erp([
      { sku: 'LOC-RULE', wh: 'WH-A', onHand: 5 },
      { sku: 'CAT-WEB', wh: 'WH-A', onHand: 5, category: 'web' },
      { sku: 'CAT-POS', wh: 'WH-S', onHand: 5, category: 'pos' },
      { sku: 'DEFAULT', wh: 'WH-S', onHand: 5 },
    ]);
    ws.shopify({
      locations: TWO_LOCATIONS,
      levels: [
        { sku: 'LOC-RULE', item: ITEM(1), location: LOC(1), available: 8 },
        { sku: 'CAT-WEB', item: ITEM(2), location: LOC(1), available: 8 },
        { sku: 'CAT-POS', item: ITEM(3), location: LOC(2), available: 8 },
        { sku: 'DEFAULT', item: ITEM(4), location: LOC(2), available: 8 },
      ],
    });
    const result = ws.diff(config);
    assert.deepEqual(
      result.rows.map((r) => [r.sku, r.authority, r.status, r.target, r.observed]),
      [
        ['CAT-WEB', 'erp', 'change', 5, 8],
        ['LOC-RULE', 'shopify', 'erp-correction', 5, 8],
        ['CAT-POS', 'shopify', 'erp-correction', 5, 8],
        ['DEFAULT', 'erp', 'change', 5, 8],
      ],
    );
    assert.match(rowOf(result, 'LOC-RULE', LOC(1)).reason, /^authority shopify: ERP should change by \+3; /);
  });

  it('counts Shopify drift and ERP drift apart, totals adding up, and gates on the one asked for', (t) => {
    const ws = open(t);
    const config = ws.config({
      locations: [
        { warehouses: ['WH-A'], shopifyLocation: 'Main', authority: 'shopify' },
        { warehouses: ['WH-S'], shopifyLocation: 'Store' },
      ],
    });
    ws.erp([
      { sku: 'POS', wh: 'WH-A', onHand: 5 },
      { sku: 'WEB', wh: 'WH-S', onHand: 5 },
      { sku: 'SAME', wh: 'WH-S', onHand: 3 },
    ]);
    ws.shopify({
      locations: TWO_LOCATIONS,
      levels: [
        { sku: 'POS', item: ITEM(1), location: LOC(1), available: 9 },
        { sku: 'WEB', item: ITEM(2), location: LOC(2), available: 2 },
        { sku: 'SAME', item: ITEM(3), location: LOC(2), available: 3 },
      ],
    });
    const { summary } = ws.diff(config);
    // Shopify drift: WEB (+3) at Store; ERP drift: POS (Shopify 9, ERP 5) at Main.
    assert.deepEqual([summary.levelsDrifting, summary.totalAbsDrift, summary.erpDrift, summary.conflicts], [1, 3, { levels: 1, units: 4 }, 0]);
    assert.deepEqual(
      summary.byLocation.map((l) => [l.locationName, l.levelsDrifting, l.totalAbsDrift, l.erpDrift.levels, l.erpDrift.units]),
      [
        ['Main', 0, 0, 1, 4],
        ['Store', 1, 3, 0, 0],
      ],
    );
    // Oversell and lost sales split Shopify drift only: an ERP correction is not a Shopify risk.
    assert.deepEqual(
      [summary.oversell, summary.lostSales],
      [
        { levels: 0, units: 0 },
        { levels: 1, units: 3 },
      ],
    );
    for (const key of ['levelsCompared', 'levelsDrifting', 'totalAbsDrift', 'stocked'] as const) {
      assert.equal(
        summary[key],
        summary.byLocation.reduce((n, l) => n + l[key], 0),
        key,
      );
    }
    assert.deepEqual(
      (['shopify', 'erp', 'all'] as const).map((gate) => driftExitCode(summary, { detailedExitcode: true, gate })),
      [2, 2, 2],
    );
    // Once Shopify holds its targets only the ERP's correction is left: the default (shopify) gate is green.
    const erpOnly = { ...summary, levelsDrifting: 0, totalAbsDrift: 0 };
    assert.deepEqual(
      (['shopify', 'erp', 'all'] as const).map((gate) => driftExitCode(erpOnly, { detailedExitcode: true, gate })),
      [0, 2, 2],
    );
    assert.equal(driftExitCode(erpOnly, { detailedExitcode: true }), 0);
    // A conflict needs a person: every gate fails on it.
    const conflictOnly = { ...erpOnly, erpDrift: { levels: 0, units: 0 }, conflicts: 1 };
    assert.deepEqual(
      (['shopify', 'erp', 'all'] as const).map((gate) => driftExitCode(conflictOnly, { detailedExitcode: true, gate })),
      [2, 2, 2],
    );
  });

  it('hybrid: no base yet takes the ERP; with a base, merges both sides’ moves', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main', authority: 'hybrid' }] });
    ws.erp([
      { sku: 'NEW', wh: 'WH-A', onHand: 7 },
      { sku: 'BOTH', wh: 'WH-A', onHand: 15 },
      { sku: 'SOLD', wh: 'WH-A', onHand: 10 },
      { sku: 'RECEIVED', wh: 'WH-A', onHand: 12 },
      { sku: 'STILL', wh: 'WH-A', onHand: 10 },
    ]);
    ws.shopify({
      locations: TWO_LOCATIONS,
      levels: [
        { sku: 'NEW', item: ITEM(1), location: LOC(1), available: 3 },
        { sku: 'BOTH', item: ITEM(2), location: LOC(1), available: 7 },
        { sku: 'SOLD', item: ITEM(3), location: LOC(1), available: 6 },
        { sku: 'RECEIVED', item: ITEM(4), location: LOC(1), available: 10 },
        { sku: 'STILL', item: ITEM(5), location: LOC(1), available: 10 },
      ],
    });
    for (const sku of ['BOTH', 'SOLD', 'RECEIVED', 'STILL']) ws.base(sku, LOC(1), 10, 10);
    const result = ws.diff(config, { all: true });
    assert.deepEqual(
      result.rows.map((r) => [r.sku, r.target, r.observed, r.status, r.hybrid]),
      [
        // ERP +5, Shopify −3: 10 + 5 − 3.
        ['BOTH', 12, 7, 'change', { baseErp: 10, baseShopify: 10, erpDelta: 5, shopifyDelta: -3 }],
        ['NEW', 7, 3, 'change', null],
        ['RECEIVED', 12, 10, 'change', { baseErp: 10, baseShopify: 10, erpDelta: 2, shopifyDelta: 0 }],
        // Shopify sold 4, the ERP has not moved: Shopify already shows the merge.
        ['SOLD', 6, 6, 'ok', { baseErp: 10, baseShopify: 10, erpDelta: 0, shopifyDelta: -4 }],
        ['STILL', 10, 10, 'ok', { baseErp: 10, baseShopify: 10, erpDelta: 0, shopifyDelta: 0 }],
      ],
    );
    assert.equal(
      rowOf(result, 'NEW', LOC(1)).reason,
      'hybrid, no reconciled base yet (ERP taken): on_hand 7 − reserved 0 − safety 0 (safetyStock.default) = 7',
    );
    assert.match(rowOf(result, 'BOTH', LOC(1)).reason, /^hybrid: Shopify 7 \+ ERP \+5 since base = 12; /);
  });

  it('hybrid: a merge that would go negative after both sides moved is a conflict with no target', (t) => {
    const ws = open(t);
    const config = ws.config({ locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main' }], authority: { byCategory: { seasonal: 'hybrid' } } });
    ws.erp([
      { sku: 'CLASH', wh: 'WH-A', onHand: 1, category: 'seasonal' },
      { sku: 'ERP-DROP', wh: 'WH-A', onHand: 0, category: 'seasonal' },
    ]);
    ws.shopify({
      locations: TWO_LOCATIONS,
      levels: [
        { sku: 'CLASH', item: ITEM(1), location: LOC(1), available: 2 },
        { sku: 'ERP-DROP', item: ITEM(2), location: LOC(1), available: 2 },
      ],
    });
    // CLASH: base 5; the ERP wrote off 4, Shopify sold 3: 5 − 4 − 3 = −2.
    ws.base('CLASH', LOC(1), 5, 5);
    // ERP-DROP: only the ERP moved (−5): the merge clamps to 0, a plain change.
    ws.base('ERP-DROP', LOC(1), 5, 2);
    const result = ws.diff(config);
    const clash = rowOf(result, 'CLASH', LOC(1));
    assert.equal(clash.status, 'conflict');
    assert.equal(clash.target, null);
    assert.equal(clash.delta, null);
    assert.equal(clash.reason, 'hybrid conflict: base 5, ERP -4, Shopify -3 would give -2');
    assert.deepEqual(clash.hybrid, { baseErp: 5, baseShopify: 5, erpDelta: -4, shopifyDelta: -3 });
    const drop = rowOf(result, 'ERP-DROP', LOC(1));
    assert.deepEqual([drop.status, drop.target, drop.delta], ['change', 0, -2]);
    assert.equal(result.summary.reported.conflict, 1);
    // A conflict fails the gate even when nothing else drifts.
    assert.equal(driftExitCode(ws.diff(config, { sku: 'CLASH' }).summary, { detailedExitcode: true }), 2);
  });
});

describe('computeDiff: bundles', () => {
  const BUNDLES = 'bundle_sku,component_sku,quantity\nKIT,A,2\nKIT,B,1\nBOX,KIT,2\nBOX,C,1\nLONELY,GHOST,1\n';
  function scene(ws: Workspace) {
    ws.erp([
      { sku: 'A', wh: 'WH-A', onHand: 9 },
      { sku: 'B', wh: 'WH-A', onHand: 6, reserved: 1 },
      { sku: 'C', wh: 'WH-A', onHand: 10 },
      { sku: 'A', wh: 'WH-S', onHand: 1 },
      { sku: 'B', wh: 'WH-S', onHand: 3 },
    ]);
    ws.shopify({
      locations: TWO_LOCATIONS,
      levels: [
        { sku: 'KIT', item: ITEM(10), location: LOC(1), available: 9 },
        { sku: 'KIT', item: ITEM(10), location: LOC(2), available: 1 },
        { sku: 'BOX', item: ITEM(11), location: LOC(1), available: 0 },
        { sku: 'LONELY', item: ITEM(12), location: LOC(1), available: 2 },
      ],
    });
  }

  it('is the minimum over components of floor(available / quantity), nested, per location', (t) => {
    const ws = open(t);
    scene(ws);
    const result = ws.diff(ws.config({ locations: TWO_MAPPINGS }, BUNDLES), { all: true, sku: '[BKL]*' });
    assert.deepEqual(
      result.rows.map((r) => [r.sku, r.locationName, r.target, r.observed, r.status, r.kind]),
      [
        // Main: KIT = min(9/2, 5/1) = 4; BOX = min(4/2, 10/1) = 2; LONELY: GHOST unknown = 0.
        ['B', 'Main', 5, null, 'not-in-shopify', 'level'],
        ['BOX', 'Main', 2, 0, 'change', 'bundle'],
        ['KIT', 'Main', 4, 9, 'change', 'bundle'],
        ['LONELY', 'Main', 0, 2, 'change', 'bundle'],
        // Store: KIT = min(1/2, 3/1) = 0; BOX is not stocked there and has nothing to sell: no line.
        ['B', 'Store', 3, null, 'not-in-shopify', 'level'],
        ['KIT', 'Store', 0, 1, 'change', 'bundle'],
        // LONELY at Store: not stocked there and 0 to sell: no line either.
      ],
    );
    assert.equal(rowOf(result, 'KIT', LOC(1)).reason, 'bundle: min over A/2, B/1 = 4 (limited by A)');
    assert.deepEqual(result.issues, ['bundle component "GHOST" is not in the ERP export: counted as 0 available']);
  });

  it('subtracts the bundle’s bySku safety stock after the minimum', (t) => {
    const ws = open(t);
    scene(ws);
    const result = ws.diff(ws.config({ locations: TWO_MAPPINGS, safetyStock: { bySku: { KIT: 1 }, default: 0 } }, BUNDLES), {
      all: true,
      location: 'Main',
      sku: '?[IO]?',
    });
    // KIT = 4 − 1 = 3; BOX uses KIT's availability after its safety stock: min(3/2, 10) = 1.
    assert.deepEqual(brief(result), [
      ['BOX', 'Main', 1, 0, 'change'],
      ['KIT', 'Main', 3, 9, 'change'],
    ]);
    assert.equal(rowOf(result, 'KIT', LOC(1)).reason, 'bundle: min over A/2, B/1 = 3 (limited by A, less safety 1)');
  });

  it('merges a hybrid bundle like a level, and gives a conflict no target', (t) => {
    const ws = open(t);
    scene(ws);
    const config = ws.config(
      {
        locations: [
          { warehouses: ['WH-A'], shopifyLocation: 'Main', authority: 'hybrid' },
          { warehouses: ['WH-S'], shopifyLocation: 'Store' },
        ],
      },
      BUNDLES,
    );
    // KIT at Main: ERP side now 4. Base 6/12: ERP −2, Shopify −3 (now 9): 12 − 2 − 3 = 7.
    ws.base('KIT', LOC(1), 6, 12);
    // LONELY at Main: ERP side now 0. Base 3/3: ERP −3, Shopify −1 (now 2): 3 − 3 − 1 = −1, a conflict.
    ws.base('LONELY', LOC(1), 3, 3);
    const result = ws.diff(config, { location: 'Main', sku: '[KL]*' });
    assert.deepEqual(brief(result), [
      ['KIT', 'Main', 7, 9, 'change'],
      ['LONELY', 'Main', null, 2, 'conflict'],
    ]);
    assert.equal(rowOf(result, 'LONELY', LOC(1)).reason, 'hybrid conflict: base 3, ERP -3, Shopify -1 would give -1');
  });

  it('refuses a bundle that is also in the ERP export', (t) => {
    const ws = open(t);
    ws.erp([
      { sku: 'A', wh: 'WH-A', onHand: 9 },
      { sku: 'KIT', wh: 'WH-X', onHand: 1 },
    ]);
    ws.shopify({ locations: TWO_LOCATIONS, levels: [{ sku: 'A', item: ITEM(1), location: LOC(1), available: 9 }] });
    const config = ws.config({ locations: TWO_MAPPINGS }, 'bundle_sku,component_sku,quantity\nKIT,A,1\n');
    assert.throws(
      () => ws.diff(config),
      (error) => error instanceof InputError && /bundles\.csv: bundle SKU "KIT" also in the ERP export/.test(error.message),
    );
  });

  it('refuses a bundles.csv with a cycle, naming the file', (t) => {
    const ws = open(t);
    ws.erp([{ sku: 'A', wh: 'WH-A', onHand: 9 }]);
    ws.shopify({ locations: TWO_LOCATIONS, levels: [] });
    const config = ws.config({ locations: TWO_MAPPINGS }, 'bundle_sku,component_sku,quantity\nX,Y,1\nY,X,1\n');
    assert.throws(
      () => ws.diff(config),
      (error) => error instanceof InputError && /bundles form a cycle: X -> Y -> X/.test(error.details.join('\n')),
    );
  });
});

describe('computeDiff: filters, threshold, snapshots, summary', () => {
  function scene(ws: Workspace) {
    ws.erp([
      { sku: 'TEE-1', wh: 'WH-A', onHand: 10 },
      { sku: 'TEE-2', wh: 'WH-A', onHand: 4 },
      { sku: 'TEE-1', wh: 'WH-S', onHand: 1 },
      { sku: 'MUG', wh: 'WH-S', onHand: 5 },
    ]);
    return ws.shopify({
      locations: TWO_LOCATIONS,
      levels: [
        { sku: 'TEE-1', item: ITEM(1), location: LOC(1), available: 7 },
        { sku: 'TEE-2', item: ITEM(2), location: LOC(1), available: 5 },
        { sku: 'TEE-1', item: ITEM(1), location: LOC(2), available: 1 },
        { sku: 'MUG', item: ITEM(3), location: LOC(2), available: 9 },
      ],
    });
  }

  it('leaves delta-0 rows out unless --all, and summarizes per location', (t) => {
    const ws = open(t);
    scene(ws);
    const config = ws.config({ locations: TWO_MAPPINGS });
    const result = ws.diff(config);
    assert.deepEqual(brief(result), [
      ['TEE-1', 'Main', 10, 7, 'change'],
      ['TEE-2', 'Main', 4, 5, 'change'],
      ['MUG', 'Store', 5, 9, 'change'],
    ]);
    assert.deepEqual(
      brief(ws.diff(config, { all: true })).map((r) => r[0] + '@' + r[1]),
      ['TEE-1@Main', 'TEE-2@Main', 'MUG@Store', 'TEE-1@Store'],
    );
    const { summary } = result;
    assert.deepEqual(
      {
        levelsCompared: summary.levelsCompared,
        levelsDrifting: summary.levelsDrifting,
        totalAbsDrift: summary.totalAbsDrift,
        oversell: summary.oversell,
        lostSales: summary.lostSales,
      },
      { levelsCompared: 4, levelsDrifting: 3, totalAbsDrift: 8, oversell: { levels: 2, units: 5 }, lostSales: { levels: 1, units: 3 } },
    );
    const none = { levels: 0, units: 0 };
    assert.deepEqual(summary.byLocation, [
      {
        locationId: LOC(1),
        locationName: 'Main',
        levelsCompared: 2,
        levelsDrifting: 2,
        totalAbsDrift: 4,
        oversell: { levels: 1, units: 1 },
        lostSales: { levels: 1, units: 3 },
        erpDrift: none,
        conflicts: 0,
        stocked: 2,
        leftOut: 0,
      },
      {
        locationId: LOC(2),
        locationName: 'Store',
        levelsCompared: 2,
        levelsDrifting: 1,
        totalAbsDrift: 4,
        oversell: { levels: 1, units: 4 },
        lostSales: none,
        erpDrift: none,
        conflicts: 0,
        stocked: 2,
        leftOut: 0,
      },
    ]);
    assert.equal(driftExitCode(summary, { detailedExitcode: true }), 2);
    assert.equal(driftExitCode(summary, {}), 0);
  });

  it('--threshold ignores |delta| at or below it, in rows and summary', (t) => {
    const ws = open(t);
    scene(ws);
    const config = ws.config({ locations: TWO_MAPPINGS });
    const result = ws.diff(config, { threshold: 3 });
    assert.deepEqual(brief(result), [['MUG', 'Store', 5, 9, 'change']]);
    assert.equal(result.summary.threshold, 3);
    assert.equal(result.summary.levelsDrifting, 1);
    assert.equal(result.summary.levelsCompared, 4);
    assert.equal(driftExitCode(ws.diff(config, { threshold: 4 }).summary, { detailedExitcode: true }), 0);
    // --all still shows the rows under the threshold.
    assert.equal(ws.diff(config, { threshold: 4, all: true }).rows.length, 4);
  });

  it('--sku is a glob; --location takes a name or an id; both narrow the summary too', (t) => {
    const ws = open(t);
    scene(ws);
    const config = ws.config({ locations: TWO_MAPPINGS });
    assert.deepEqual(
      brief(ws.diff(config, { sku: 'TEE-*' })).map((r) => r[0] + '@' + r[1]),
      ['TEE-1@Main', 'TEE-2@Main'],
    );
    assert.deepEqual(brief(ws.diff(config, { sku: 'tee-*' })), []);
    assert.deepEqual(
      brief(ws.diff(config, { location: 'Store' })).map((r) => r[0]),
      ['MUG'],
    );
    assert.deepEqual(
      brief(ws.diff(config, { location: LOC(1), sku: '*-2' })).map((r) => r[0]),
      ['TEE-2'],
    );
    const store = ws.diff(config, { location: 'Store' }).summary;
    assert.deepEqual([store.levelsCompared, store.levelsDrifting, store.byLocation.length], [2, 1, 1]);
  });

  it('--location naming no mapped location is an error, not an empty pass', (t) => {
    const ws = open(t);
    scene(ws);
    const config = ws.config({ locations: TWO_MAPPINGS });
    assert.throws(
      () => ws.diff(config, { location: 'Stroe' }),
      (error) => error instanceof UsageError && error.message === '--location "Stroe": no mapped Shopify location has this name or id (mapped: Main, Store)',
    );
  });

  it('diffs an older pair of snapshots with --erp-snapshot/--shopify-snapshot', (t) => {
    const ws = open(t);
    const oldShop = scene(ws);
    const oldErp = ws.erp([{ sku: 'TEE-1', wh: 'WH-A', onHand: 7 }]);
    ws.erp([{ sku: 'TEE-1', wh: 'WH-A', onHand: 1 }]);
    ws.shopify({ locations: TWO_LOCATIONS, levels: [{ sku: 'TEE-1', item: ITEM(1), location: LOC(1), available: 3 }] });
    const config = ws.config({ locations: TWO_MAPPINGS });
    assert.deepEqual(brief(ws.diff(config)), [['TEE-1', 'Main', 1, 3, 'change']]);
    const old = ws.diff(config, { erpSnapshotId: oldErp.id, shopifySnapshotId: oldShop.id, all: true });
    assert.equal(old.erpSnapshot.id, oldErp.id);
    assert.equal(old.shopifySnapshot.id, oldShop.id);
    // That ERP snapshot lists only TEE-1: TEE-2 is unknown to it (ignored), TEE-1 has an empty bin at Store.
    assert.deepEqual(brief(old), [
      ['TEE-1', 'Main', 7, 7, 'ok'],
      ['TEE-1', 'Store', 0, 1, 'change'],
    ]);
    assert.throws(
      () => ws.diff(config, { erpSnapshotId: oldShop.id }),
      (error) => error instanceof UsageError && /is a shopify snapshot/.test(error.message),
    );
    assert.throws(
      () => ws.diff(config, { shopifySnapshotId: 999 }),
      (error) => error instanceof UsageError && /--shopify-snapshot 999: no such snapshot/.test(error.message),
    );
  });

  it('fails clearly when a side has no snapshot yet', (t) => {
    const ws = open(t);
    ws.erp([{ sku: 'A', wh: 'WH-A', onHand: 1 }]);
    assert.throws(
      () => ws.diff(ws.config({ locations: TWO_MAPPINGS })),
      (error) => error instanceof InputError && /no Shopify snapshot yet: run "invrecon pull shopify" first/.test(error.message),
    );
  });
});
