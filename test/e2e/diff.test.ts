import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoDir, runCli, TEST_TOKEN as TOKEN } from '../helpers/cli.js';
import { spawnEmulatorProcess, type EmulatorProcess } from '../helpers/emulator-process.js';
import { demoWorkspace } from '../helpers/shop.js';

// The demo: fixtures/demo/{erp.csv, bundles.csv, invrecon.config.json} against the emulator seeded with
// fixtures/demo/shop.json. Every expected figure below is worked out by hand from those files and the
// rules (docs/reconcile.md walks through the same numbers).

const MAIN = 'gid://shopify/Location/1';
const STORE = 'gid://shopify/Location/2';

function startEmulator(): Promise<EmulatorProcess> {
  return spawnEmulatorProcess(['--port', '0', '--seed', join(demoDir, 'shop.json')]);
}

const workspace = demoWorkspace();
let emulator: EmulatorProcess;
const cli = (args: string[]) => runCli(args, { cwd: workspace.dir, env: { SHOPIFY_ADMIN_TOKEN: TOKEN, INVRECON_SHOPIFY_ENDPOINT: emulator.url } });

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await emulator?.stop();
  workspace.cleanup();
});

// sku, location, target, observed, delta, status — the rows `diff` shows (delta 0 left out).
const EXPECTED: [string, string, number | null, number | null, number | null, string][] = [
  // Downtown Store (STORE-1; byLocation safety 1 unless bySku says otherwise)
  ['CAP-BLK', 'Downtown Store', 1, null, null, 'not-stocked'], // 2 − 0 − 1; Shopify does not stock it there
  ['GIFT-SET', 'Downtown Store', 2, 0, 2, 'change'], // min(TEE-RED-M 2 / 1, MUG-WHT 5 / 2)
  ['POS-BAG', 'Downtown Store', 39, 35, 4, 'erp-correction'], // 40 − 0 − 1; category pos-only: Shopify decides
  ['TEE-RED-L', 'Downtown Store', 0, 2, -2, 'change'], // 0 − 0 − 1 clamped to 0
  ['TEE-RED-M', 'Downtown Store', 2, 3, -1, 'change'], // 4 − 1 − 1
  // Main Warehouse (WH-A + WH-A2 pooled; WH-X unmapped)
  ['CAP-BLK', 'Main Warehouse', 0, 1, -1, 'change'], // 3 − 5 clamped to 0
  ['GIFT-SET', 'Main Warehouse', 12, 4, 8, 'change'], // min(TEE-RED-M 13 / 1, MUG-WHT 24 / 2)
  ['MUG-WHT', 'Main Warehouse', 24, 30, -6, 'change'], // 30 − 4 − bySku 2
  ['POSTER-A2', 'Main Warehouse', 12, null, null, 'not-in-shopify'],
  ['STICKER', 'Main Warehouse', null, 9, null, 'not-in-erp'], // unknownSkus: report
  ['TEE-RED-M', 'Main Warehouse', 13, 5, 8, 'change'], // (10 + 5) − (2 + 0) − 0
];
// The levels already right, shown with --all.
const IN_SYNC: [string, string, number, number, number, string][] = [
  ['MUG-WHT', 'Downtown Store', 5, 5, 0, 'ok'], // 7 − 0 − bySku 2 (over byLocation 1)
  ['TEE-BLU-M', 'Downtown Store', 5, 5, 0, 'ok'], // 6 − 0 − 1
  ['TEE-BLU-M', 'Main Warehouse', 12, 12, 0, 'ok'], // 20 − 5 − ERP column 3
  ['TEE-RED-L', 'Main Warehouse', 8, 8, 0, 'ok'],
];
const ISSUES = [
  'ERP warehouse "WH-X" is not mapped to a Shopify location (1 row ignored)',
  'Shopify location "Pop-up Kiosk" (gid://shopify/Location/3) stocks 1 item but no ERP warehouse is mapped to it: left as it is',
];

const sortRows = <T extends unknown[]>(rows: T[]) =>
  [...rows].sort((a, b) => String(a[1]).localeCompare(String(b[1])) || String(a[0]).localeCompare(String(b[0])));

describe('invrecon diff on the demo shop', () => {
  it('fails with exit 1 before any snapshot exists, even as a gate', async () => {
    const result = await cli(['diff', '--detailed-exitcode']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /no ERP snapshot yet: run "invrecon pull erp" first/);
  });

  it('pulls both sides', async () => {
    const erp = await cli(['pull', 'erp', '--format', 'json']);
    assert.equal(erp.code, 0, erp.stderr);
    assert.equal(JSON.parse(erp.stdout).snapshotId, 1);
    const shop = await cli(['pull', 'shopify', '--format', 'json']);
    assert.equal(shop.code, 0, shop.stderr);
    assert.equal(JSON.parse(shop.stdout).snapshotId, 2);
  });

  it('--format json: exactly the expected rows, summary and issues', async () => {
    const result = await cli(['diff', '--format', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.deepEqual(
      out.rows.map((r: any) => [r.sku, r.locationName, r.target, r.observed, r.delta, r.status]),
      EXPECTED,
    );
    for (const row of out.rows) assert.equal(row.locationId, row.locationName === 'Main Warehouse' ? MAIN : STORE);
    assert.deepEqual(out.issues, ISSUES);
    assert.deepEqual(out.baseline.erpSnapshotId, 1);
    assert.deepEqual(out.baseline.shopifySnapshotId, 2);
    const mug = out.rows.find((r: any) => r.sku === 'MUG-WHT');
    assert.deepEqual(mug, {
      sku: 'MUG-WHT',
      locationId: MAIN,
      locationName: 'Main Warehouse',
      inventoryItemId: 'gid://shopify/InventoryItem/104',
      target: 24,
      observed: 30,
      delta: -6,
      status: 'change',
      authority: 'erp',
      reason: 'on_hand 30 − reserved 4 − safety 2 (safetyStock.bySku) = 24',
      kind: 'level',
      erp: { onHand: 30, reserved: 4, safetyStock: 2, safetySource: 'bySku', shopifyCommitted: 0, available: 24, clamped: false },
      hybrid: null,
      category: 'homeware',
    });
    const { byLocation, ...totals } = out.summary;
    assert.deepEqual(totals, {
      threshold: 0,
      levelsCompared: 12,
      // Shopify drift: the levels invrecon would write; the ERP correction (POS-BAG) is ERP drift, counted apart.
      levelsDrifting: 7,
      totalAbsDrift: 28,
      oversell: { levels: 4, units: 10 },
      lostSales: { levels: 3, units: 18 },
      erpDrift: { levels: 1, units: 4 },
      conflicts: 0,
      stocked: 11,
      reported: {
        'erp-correction': 1,
        conflict: 0,
        'not-in-shopify': 1,
        'not-stocked': 1,
        'not-in-erp': 1,
        'ambiguous-sku': 0,
        untracked: 0,
        'inactive-location': 0,
        clamped: 2,
      },
      leftOut: { levels: 0, ofUntrackedItems: 0, atInactiveLocations: 0 },
    });
    assert.deepEqual(
      byLocation.map((l: any) => [l.locationName, l.levelsCompared, l.levelsDrifting, l.totalAbsDrift, l.oversell.units, l.lostSales.units, l.erpDrift.units]),
      [
        ['Downtown Store', 6, 3, 5, 3, 2, 4],
        ['Main Warehouse', 6, 4, 23, 7, 16, 0],
      ],
    );
  });

  it('--all adds the levels already in sync', async () => {
    const result = await cli(['diff', '--format', 'json', '--all']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      JSON.parse(result.stdout).rows.map((r: any) => [r.sku, r.locationName, r.target, r.observed, r.delta, r.status]),
      sortRows([...EXPECTED, ...IN_SYNC]),
    );
  });

  it('--format csv: the same rows, one line each', async () => {
    const result = await cli(['diff', '--format', 'csv']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        'sku,location_id,location_name,inventory_item_id,target,observed,delta,status,authority,reason',
        `CAP-BLK,${STORE},Downtown Store,gid://shopify/InventoryItem/105,1,,,not-stocked,erp,item not stocked at this location in Shopify: on_hand 2 − reserved 0 − safety 1 (safetyStock.byLocation) = 1`,
        `GIFT-SET,${STORE},Downtown Store,gid://shopify/InventoryItem/107,2,0,2,change,erp,"bundle: min over TEE-RED-M/1, MUG-WHT/2 = 2 (limited by TEE-RED-M)"`,
        `POS-BAG,${STORE},Downtown Store,gid://shopify/InventoryItem/106,39,35,4,erp-correction,shopify,authority shopify: ERP should change by -4; on_hand 40 − reserved 0 − safety 1 (safetyStock.byLocation) = 39`,
        `TEE-RED-L,${STORE},Downtown Store,gid://shopify/InventoryItem/102,0,2,-2,change,erp,on_hand 0 − reserved 0 − safety 1 (safetyStock.byLocation) = 0 (clamped to 0)`,
        `TEE-RED-M,${STORE},Downtown Store,gid://shopify/InventoryItem/101,2,3,-1,change,erp,on_hand 4 − reserved 1 − safety 1 (safetyStock.byLocation) = 2`,
        `CAP-BLK,${MAIN},Main Warehouse,gid://shopify/InventoryItem/105,0,1,-1,change,erp,"on_hand 3 − reserved 5 − safety 0 (safetyStock.default) = 0 (reserved exceeds on hand: clamped to 0, check the ERP data)"`,
        `GIFT-SET,${MAIN},Main Warehouse,gid://shopify/InventoryItem/107,12,4,8,change,erp,"bundle: min over TEE-RED-M/1, MUG-WHT/2 = 12 (limited by MUG-WHT)"`,
        `MUG-WHT,${MAIN},Main Warehouse,gid://shopify/InventoryItem/104,24,30,-6,change,erp,on_hand 30 − reserved 4 − safety 2 (safetyStock.bySku) = 24`,
        `POSTER-A2,${MAIN},Main Warehouse,,12,,,not-in-shopify,erp,not in Shopify (no item has this SKU): on_hand 12 − reserved 0 − safety 0 (safetyStock.default) = 12`,
        `STICKER,${MAIN},Main Warehouse,gid://shopify/InventoryItem/108,,9,,not-in-erp,erp,not in the ERP export (unknownSkus: report)`,
        `TEE-RED-M,${MAIN},Main Warehouse,gid://shopify/InventoryItem/101,13,5,8,change,erp,on_hand 15 − reserved 2 − safety 0 (safetyStock.default) = 13`,
        '',
      ].join('\n'),
    );
    // CSV is rows only: the mapping's issues go to stderr, not lost.
    assert.deepEqual(
      result.stderr.trim().split('\n'),
      ISSUES.map((issue) => `warning: ${issue}`),
    );
  });

  it('table (default): grouped by location with totals, the issues, and the summary', async () => {
    const result = await cli(['diff']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.match(lines[0]!, /^ERP snapshot #1 \(.+\) vs Shopify snapshot #2 \(.+\)$/);
    assert.deepEqual(
      lines.slice(1, 3),
      ISSUES.map((issue) => `! ${issue}`),
    );
    // The table cells, in order, under their location headings.
    const table: string[][] = [];
    for (const line of lines) {
      if (line.startsWith('Downtown Store') || line.startsWith('Main Warehouse')) table.push([line]);
      else if (line.startsWith('│') && !line.includes('│ SKU'))
        table.push(
          line
            .split('│')
            .slice(1, 6)
            .map((cell) => cell.trim()),
        );
    }
    const cells = (row: (typeof EXPECTED)[number], status: string) => [
      row[0],
      String(row[2] ?? ''),
      String(row[3] ?? ''),
      row[4] === null ? '' : row[4] > 0 ? `+${row[4]}` : String(row[4]),
      status,
    ];
    const label = (row: (typeof EXPECTED)[number]) => (row[5] !== 'change' ? row[5] : row[4]! < 0 ? 'oversell' : 'lost sales');
    assert.deepEqual(table, [
      ['Downtown Store  3 levels drifting in Shopify of 6, |drift| 5; 1 ERP correction'],
      ...EXPECTED.filter((r) => r[1] === 'Downtown Store').map((r) => cells(r, label(r))),
      ['Main Warehouse  4 levels drifting in Shopify of 6, |drift| 23'],
      ...EXPECTED.filter((r) => r[1] === 'Main Warehouse').map((r) => cells(r, label(r))),
    ]);
    assert.equal(
      lines.at(-2),
      '12 levels compared, 7 drifting in Shopify, total |drift| 28; oversell risk 4 (10 units), lost-sales risk 3 (18 units); 1 ERP correction (4 units); reported: not-in-shopify 1, not-stocked 1, not-in-erp 1, clamped 2',
    );
  });

  it('filters by --sku glob and --location (name or id)', async () => {
    const bySku = JSON.parse((await cli(['diff', '--format', 'json', '--sku', 'TEE-*'])).stdout);
    assert.deepEqual(
      bySku.rows.map((r: any) => [r.sku, r.locationName, r.delta]),
      [
        ['TEE-RED-L', 'Downtown Store', -2],
        ['TEE-RED-M', 'Downtown Store', -1],
        ['TEE-RED-M', 'Main Warehouse', 8],
      ],
    );
    assert.equal(bySku.summary.levelsCompared, 6);
    const byName = JSON.parse((await cli(['diff', '--format', 'json', '--location', 'Downtown Store', '--sku', '*-M'])).stdout);
    assert.deepEqual(
      byName.rows.map((r: any) => [r.sku, r.locationId]),
      [['TEE-RED-M', STORE]],
    );
    const byId = JSON.parse((await cli(['diff', '--format', 'json', '--location', MAIN, '--sku', 'MUG-*'])).stdout);
    assert.deepEqual(
      byId.rows.map((r: any) => [r.sku, r.locationName, r.delta]),
      [['MUG-WHT', 'Main Warehouse', -6]],
    );
  });

  it('the gate: --detailed-exitcode exits 2 with drift, 0 within --threshold or on a filter without drift', async () => {
    const drift = await cli(['diff', '--detailed-exitcode', '--format', 'json']);
    assert.equal(drift.code, 2, drift.stderr);
    assert.equal(JSON.parse(drift.stdout).summary.levelsDrifting, 7);
    // The largest |delta| is 8: a threshold of 7 leaves the two 8s, 8 leaves none.
    const seven = await cli(['diff', '--detailed-exitcode', '--threshold', '7', '--format', 'json']);
    assert.equal(seven.code, 2, seven.stderr);
    assert.deepEqual(
      JSON.parse(seven.stdout)
        .rows.filter((r: any) => r.delta !== null)
        .map((r: any) => [r.sku, r.locationName, r.delta]),
      [
        ['GIFT-SET', 'Main Warehouse', 8],
        ['TEE-RED-M', 'Main Warehouse', 8],
      ],
    );
    const eight = await cli(['diff', '--detailed-exitcode', '--threshold', '8']);
    assert.equal(eight.code, 0, eight.stderr);
    assert.match(eight.stdout, /12 levels compared, 0 drifting in Shopify \(\|delta\| > 8\), total \|drift\| 0;/);
    assert.equal((await cli(['diff', '--detailed-exitcode', '--sku', 'TEE-BLU-M'])).code, 0);
    assert.equal((await cli(['diff', '--detailed-exitcode', '--location', 'Downtown Store', '--sku', 'MUG-WHT'])).code, 0);
    // Without the flag, drift is still exit 0.
    assert.equal((await cli(['diff'])).code, 0);
  });

  it('--gate: shopify (the default) fails on levels invrecon would write, erp on ERP corrections, all on both', async () => {
    // Downtown Store has both kinds; POS-BAG alone is an ERP correction only.
    const gate = async (args: string[]) => (await cli(['diff', '--detailed-exitcode', ...args])).code;
    assert.deepEqual(await Promise.all([[], ['--gate', 'shopify'], ['--gate', 'erp'], ['--gate', 'all']].map(gate)), [2, 2, 2, 2]);
    const posBag = ['--sku', 'POS-BAG'];
    assert.deepEqual(
      await Promise.all([posBag, [...posBag, '--gate', 'shopify'], [...posBag, '--gate', 'erp'], [...posBag, '--gate', 'all']].map(gate)),
      [0, 0, 2, 2],
    );
    const teeOnly = ['--sku', 'TEE-*'];
    assert.deepEqual(
      await Promise.all(
        [
          [...teeOnly, '--gate', 'erp'],
          [...teeOnly, '--gate', 'shopify'],
        ].map(gate),
      ),
      [0, 2],
    );
    assert.equal(await gate(['--gate', 'everything']), 1);
  });

  it('the gate: errors exit 1 (bad flag values, unknown location, unknown snapshot)', async () => {
    const threshold = await cli(['diff', '--detailed-exitcode', '--threshold', '-1']);
    assert.equal(threshold.code, 1);
    assert.match(threshold.stderr, /--threshold: expected a whole number ≥ 0, got "-1"/);
    const location = await cli(['diff', '--detailed-exitcode', '--location', 'Downtown']);
    assert.equal(location.code, 1);
    assert.match(location.stderr, /--location "Downtown": no mapped Shopify location has this name or id \(mapped: Main Warehouse, Downtown Store\)/);
    const snapshot = await cli(['diff', '--detailed-exitcode', '--erp-snapshot', '2']);
    assert.equal(snapshot.code, 1);
    assert.match(snapshot.stderr, /--erp-snapshot 2: snapshot 2 is a shopify snapshot/);
    const format = await cli(['diff', '--format', 'xml']);
    assert.equal(format.code, 1);
  });

  it('diffs an older pair with --erp-snapshot/--shopify-snapshot after a newer pull', async () => {
    // A newer ERP export: the count at WH-A now matches what Shopify shows for TEE-RED-M (5).
    const csv = readFileSync(join(workspace.dir, 'erp.csv'), 'utf8').replace('TEE-RED-M,WH-A,10,2,0,,apparel', 'TEE-RED-M,WH-A,2,2,0,,apparel');
    writeFileSync(join(workspace.dir, 'erp.csv'), csv);
    const pulled = await cli(['pull', 'erp', '--format', 'json']);
    assert.equal(JSON.parse(pulled.stdout).snapshotId, 3);
    const newest = JSON.parse((await cli(['diff', '--format', 'json', '--sku', 'TEE-RED-M', '--location', 'Main Warehouse', '--all'])).stdout);
    assert.deepEqual(
      newest.rows.map((r: any) => [r.target, r.observed, r.status]),
      [[5, 5, 'ok']],
    );
    assert.equal(newest.baseline.erpSnapshotId, 3);
    const older = await cli(['diff', '--format', 'json', '--erp-snapshot', '1', '--shopify-snapshot', '2']);
    assert.equal(older.code, 0, older.stderr);
    const out = JSON.parse(older.stdout);
    assert.equal(out.baseline.erpSnapshotId, 1);
    assert.deepEqual(
      out.rows.map((r: any) => [r.sku, r.locationName, r.target, r.observed, r.delta, r.status]),
      EXPECTED,
    );
  });
});
