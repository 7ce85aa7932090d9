import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';

const HEADER = 'sku,warehouse,on_hand,reserved,incoming,safety_stock,category';

describe('pull erp: accepted formats and rejected input', () => {
  const workspace = tempDir();
  const config = join(workspace.dir, 'invrecon.config.json');
  let csvCount = 0;

  before(() => {
    writeFileSync(
      config,
      JSON.stringify({
        shopify: { shop: 'acme.myshopify.com' },
        erp: { csv: { path: 'erp.csv', columns: {} } },
        locations: [{ warehouses: ['WH-A', 'WH-B'], shopifyLocation: 'Main Warehouse' }],
      }),
    );
  });
  after(() => workspace.cleanup());

  function writeCsv(text: string): string {
    const path = join(workspace.dir, `export-${++csvCount}.csv`);
    writeFileSync(path, text);
    return path;
  }

  async function snapshotCount(): Promise<number> {
    const result = await runCli(['snapshots', '--format', 'json', '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout).snapshots.length;
  }

  async function pull(text: string) {
    return runCli(['pull', 'erp', '--csv', writeCsv(text), '--format', 'json', '--config', config]);
  }

  it('reads a BOM, semicolons, CRLF, quoted fields, loose header names and integral decimals', async () => {
    const text = '\uFEFF SKU ;Warehouse;On Hand;RESERVED;category\r\n"TEE;RED";WH-A;12.0;2;"apparel, tops"\r\nMUG;WH-B;"7";0;\r\n';
    const result = await pull(text);
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.rows, 2);
    assert.equal(json.skus, 2);
  });

  it('reads tab-separated exports', async () => {
    const result = await pull(`sku\twarehouse\ton_hand\nA\tWH-A\t3\nB\tWH-B\t0\n`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).rows, 2);
  });

  const badInputs: { name: string; text: string; expect: RegExp[] }[] = [
    { name: 'a fractional quantity', text: `${HEADER}\nA,WH-A,5,0,0,,\nB,WH-A,12.5,0,0,,\n`, expect: [/:3:3: on_hand expected a whole number, got "12\.5"/] },
    { name: 'text in a quantity', text: `${HEADER}\nA,WH-A,abc,0,0,,\n`, expect: [/:2:3: on_hand expected a whole number, got "abc"/] },
    { name: 'a negative on-hand', text: `${HEADER}\nA,WH-A,-4,0,0,,\n`, expect: [/:2:3: on_hand must not be negative, got -4/] },
    { name: 'a negative reserved', text: `${HEADER}\nA,WH-A,4,-1,0,,\n`, expect: [/:2:4: reserved must not be negative, got -1/] },
    { name: 'an empty SKU', text: `${HEADER}\nA,WH-A,4,0,0,,\n,WH-A,4,0,0,,\n`, expect: [/:3:1: sku is empty/] },
    { name: 'a missing required column', text: 'sku,on_hand\nA,4\n', expect: [/:1: missing required column "warehouse"/] },
    {
      name: 'a duplicate (sku, warehouse), naming both lines',
      text: `${HEADER}\nA,WH-A,4,0,0,,\nB,WH-A,1,0,0,,\nA,WH-A,5,0,0,,\n`,
      expect: [/:4: duplicate row for sku "A" in warehouse "WH-A"; first at export-\d+\.csv:2/],
    },
    {
      name: 'a truncated last row',
      text: `${HEADER}\nA,WH-A,4,0,0,,\nB,WH-A,1`,
      expect: [/:3: expected 7 fields as in the header, found 3 \(truncated row\?\)/],
    },
    { name: 'a malformed quote', text: `${HEADER}\nA,WH-A,4,0,0,,\n"B,WH-A,1,0,0,,\n`, expect: [/:\d+: malformed CSV/] },
    { name: 'an empty file', text: '', expect: [/:1: the file is empty/] },
  ];

  for (const bad of badInputs) {
    it(`rejects ${bad.name}: exit 1, located message, no snapshot`, async () => {
      const before = await snapshotCount();
      const result = await pull(bad.text);
      assert.equal(result.code, 1, `expected exit 1, got ${result.code}: ${result.stderr}`);
      for (const pattern of bad.expect) assert.match(result.stderr, pattern);
      // Under --format json the failure is a JSON document on stdout too.
      assert.equal(typeof JSON.parse(result.stdout).error.message, 'string');
      assert.equal(await snapshotCount(), before);
    });
  }

  it('collects several errors in one run and names each line', async () => {
    const result = await pull(`${HEADER}\nA,WH-A,x,0,0,,\nB,WH-A,1,y,0,,\nC,WH-A,2,0,0,-3,\n`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /3 bad rows; no snapshot written/);
    assert.match(result.stderr, /:2:3: on_hand/);
    assert.match(result.stderr, /:3:4: reserved/);
    assert.match(result.stderr, /:4:6: safety_stock must not be negative/);
  });

  it('maps headers through erp.csv.columns and warns about unmapped warehouses', async () => {
    const mapped = join(workspace.dir, 'mapped.config.json');
    writeFileSync(
      mapped,
      JSON.stringify({
        shopify: { shop: 'acme.myshopify.com' },
        erp: { csv: { path: 'mapped.csv', columns: { sku: 'Item Code', warehouse: 'Site', on_hand: 'Qty On Hand' } } },
        locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main Warehouse' }],
      }),
    );
    writeFileSync(join(workspace.dir, 'mapped.csv'), 'item code,SITE,qty_on_hand\nA,WH-A,4\nB,WH-Z,2\nC,WH-Z,1\n');
    const result = await runCli(['pull', 'erp', '--format', 'json', '--config', mapped]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).rows, 3);
    assert.match(result.stderr, /warning: warehouse "WH-Z" is not mapped in locations \(2 rows\)/);
  });

  it('names the config key when a configured column is missing', async () => {
    const mapped = join(workspace.dir, 'badmap.config.json');
    writeFileSync(
      mapped,
      JSON.stringify({
        shopify: { shop: 'acme.myshopify.com' },
        erp: { csv: { path: 'mapped.csv', columns: { on_hand: 'Quantity' } } },
        locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main Warehouse' }],
      }),
    );
    const result = await runCli(['pull', 'erp', '--config', mapped]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /missing required column "Quantity" \(erp\.csv\.columns\.on_hand\)/);
  });
});
