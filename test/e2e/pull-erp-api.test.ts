import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';
import { erpnextHandler, genericRecords, odooHandler, sendJson, startServer, type FakeServer } from '../unit/erp-api/fake-erp.js';

const SECRET = 'e2e-5ecret-token-value';

describe('pull erp --api (end to end)', () => {
  const workspace = tempDir();
  const servers: FakeServer[] = [];
  let generic: FakeServer;
  let records = genericRecords(7);
  after(async () => {
    for (const server of servers) await server.close();
    workspace.cleanup();
  });
  before(async () => {
    // Pages of 3 over offset/limit; the token must come as a bearer header.
    generic = await startServer((request, response) => {
      if (request.headers.authorization !== `Bearer ${SECRET}`) return sendJson(response, 401, { error: 'no token', got: request.headers.authorization });
      const offset = Number(request.url.searchParams.get('offset'));
      const limit = Number(request.url.searchParams.get('limit'));
      sendJson(response, 200, { data: { items: records.slice(offset, offset + limit) } });
    });
    servers.push(generic);
    writeFileSync(join(workspace.dir, 'erp.csv'), 'sku,warehouse,on_hand\nCSV-1,WH-A,4\n');
  });

  function writeConfig(name: string, api: Record<string, unknown>, csv = false): string {
    const path = join(workspace.dir, name);
    const config = {
      shopify: { shop: 'acme.myshopify.com' },
      erp: { api, ...(csv ? { csv: { path: 'erp.csv' } } : {}) },
      locations: [{ warehouses: ['WH-A', 'WH-B', 'Stores', 'WH/Stock'], shopifyLocation: 'Main Warehouse' }],
    };
    writeFileSync(path, JSON.stringify(config, null, 2));
    return path;
  }
  const genericApi = () => ({
    url: `${generic.url}/items`,
    apiKeyEnv: 'ERP_TOKEN',
    recordsPath: 'data.items',
    fields: { sku: 'item.code', warehouse: 'location.code', on_hand: 'qty.onHand', reserved: 'qty.reserved' },
    pagination: { style: 'offset' },
    pageSize: 3,
    retryDelayMs: 10,
  });
  async function snapshotCount(config: string): Promise<number> {
    const listed = await runCli(['snapshots', '--config', config, '--format', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    return (JSON.parse(listed.stdout) as { snapshots: unknown[] }).snapshots.length;
  }

  it('generic source: --api reads erp.api even when erp.csv is set; without it, the CSV wins', async () => {
    const config = writeConfig('generic.json', genericApi(), true);
    const result = await runCli(['pull', 'erp', '--api', '--config', config, '--format', 'json'], { env: { ERP_TOKEN: SECRET } });
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.side, 'erp');
    assert.equal(json.rows, 7);
    assert.equal(json.skus, 7);
    assert.equal(json.source, `${generic.url}/items`);
    assert.deepEqual(
      json.warehouses.map((w: { code: string; rows: number }) => [w.code, w.rows]),
      [
        ['WH-A', 4],
        ['WH-B', 3],
      ],
    );

    const csv = await runCli(['pull', 'erp', '--config', config, '--format', 'json'], { env: { ERP_TOKEN: SECRET } });
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(JSON.parse(csv.stdout).rows, 1);
    assert.equal(await snapshotCount(config), 2);
  });

  it('a malformed record fails the pull (exit 1, page and record named) and leaves the snapshot count unchanged', async () => {
    const config = writeConfig('generic.json', genericApi());
    const before = await snapshotCount(config);
    records = genericRecords(7);
    records[4]!.qty.onHand = -3;
    try {
      const result = await runCli(['pull', 'erp', '--api', '--config', config, '--format', 'json'], { env: { ERP_TOKEN: SECRET } });
      assert.equal(result.code, 1);
      // Under --format json the failure is a JSON document on stdout too.
      assert.equal(typeof JSON.parse(result.stdout).error.message, 'string');
      assert.match(result.stderr, new RegExp(`${generic.url}/items page 2, record 2: on_hand must not be negative, got -3`));
      assert.match(result.stderr, /no snapshot written/);
    } finally {
      records = genericRecords(7);
    }
    assert.equal(await snapshotCount(config), before);
  });

  it('the secret never shows, even when the server echoes it back; a missing variable is a config error', async () => {
    const config = writeConfig('generic.json', genericApi());
    const wrong = await runCli(['pull', 'erp', '--api', '--config', config], { env: { ERP_TOKEN: `${SECRET}-wrong` } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /HTTP 401 Unauthorized/);
    assert.match(wrong.stderr, /\[redacted\]/);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /5ecret/);

    const missing = await runCli(['pull', 'erp', '--api', '--config', config], { env: { ERP_TOKEN: undefined } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /generic\.json: erp\.api\.apiKeyEnv \(ERP_TOKEN\): environment variable ERP_TOKEN is not set/);
  });

  it('--api with no erp.api configured is a usage error', async () => {
    const path = join(workspace.dir, 'csv-only.json');
    writeFileSync(
      path,
      JSON.stringify({
        shopify: { shop: 'acme.myshopify.com' },
        erp: { csv: { path: 'erp.csv' } },
        locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main' }],
      }),
    );
    const result = await runCli(['pull', 'erp', '--api', '--config', path]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /erp\.api is not configured/);
  });

  it('ERPNext preset with only a URL and credentials', async () => {
    const env = { ERPNEXT_API_KEY: 'e2e-key-1234', ERPNEXT_API_SECRET: 'e2e-secret-5678' };
    const bins = Array.from({ length: 5 }, (_, i) => ({
      item_code: `ITEM-${i}`,
      warehouse: 'Stores',
      actual_qty: 10.0 + i,
      reserved_qty: 0.0,
      ordered_qty: 2.0,
    }));
    const server = await startServer(erpnextHandler(bins, `token ${env.ERPNEXT_API_KEY}:${env.ERPNEXT_API_SECRET}`));
    servers.push(server);
    const config = writeConfig('erpnext.json', { preset: 'erpnext', url: server.url, apiKeyEnv: 'ERPNEXT_API_KEY', apiSecretEnv: 'ERPNEXT_API_SECRET' });
    const result = await runCli(['pull', 'erp', '--api', '--config', config, '--format', 'json'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).rows, 5);
    assert.equal(JSON.parse(result.stdout).source, `${server.url}/api/resource/Bin`);
  });

  it('Odoo preset: quants summed per product and location; with no flag and no CSV, erp.api is used', async () => {
    const server = await startServer(
      odooHandler({
        key: 'e2e-odoo-key',
        database: 'acme',
        products: { 1: 'TEE-M', 2: 'MUG' },
        quants: [
          { id: 1, product: [1, 'Tee'], location: [8, 'WH/Stock'], quantity: 4, reserved: 1 },
          { id: 2, product: [1, 'Tee'], location: [8, 'WH/Stock'], quantity: 6, reserved: 0 },
          { id: 3, product: [2, 'Mug'], location: [8, 'WH/Stock'], quantity: 3, reserved: 0 },
        ],
      }),
    );
    servers.push(server);
    const config = writeConfig('odoo.json', { preset: 'odoo', url: server.url, database: 'acme', apiKeyEnv: 'ODOO_API_KEY' });
    const result = await runCli(['pull', 'erp', '--config', config, '--format', 'json'], { env: { ODOO_API_KEY: 'e2e-odoo-key' } });
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.rows, 2);
    assert.deepEqual(
      json.warehouses.map((w: { code: string; mapped: boolean }) => [w.code, w.mapped]),
      [['WH/Stock', true]],
    );
  });

  it('plain http to a non-loopback address is refused by the config check', async () => {
    const config = writeConfig('remote.json', { url: 'http://erp.example.com/items' });
    const result = await runCli(['pull', 'erp', '--api', '--config', config]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /erp\.api\.url: plain http:\/\/ is accepted for loopback addresses only/);
  });
});
