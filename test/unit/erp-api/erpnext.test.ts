import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { renderError } from '../../../src/cli/main.js';
import { erpnextHandler, errorText, pullApi, startServer, type FakeServer } from './fake-erp.js';

const servers: FakeServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
});

const ENV = { ERPNEXT_API_KEY: 'a1b2c3d4e5', ERPNEXT_API_SECRET: 'f6e5-secret-d4c3' };
const AUTH = `token ${ENV.ERPNEXT_API_KEY}:${ENV.ERPNEXT_API_SECRET}`;

function bins(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `bin-${i}`,
    item_code: `ITEM-${i + 1}`,
    warehouse: i % 2 === 0 ? 'Stores' : 'Stores 2',
    actual_qty: 20.0 + i,
    reserved_qty: 1.0,
    ordered_qty: i,
    projected_qty: 99,
  }));
}

async function erpnext(data: Record<string, unknown>[]): Promise<FakeServer> {
  const server = await startServer(erpnextHandler(data, AUTH));
  servers.push(server);
  return server;
}

const preset = (server: FakeServer, extra: Record<string, unknown> = {}) => ({
  preset: 'erpnext',
  url: server.url,
  apiKeyEnv: 'ERPNEXT_API_KEY',
  apiSecretEnv: 'ERPNEXT_API_SECRET',
  ...extra,
});

describe('ERPNext preset', () => {
  it('reads Bin over /api/resource with token auth, the fields asked and limit_start/limit_page_length', async () => {
    const server = await erpnext(bins(5));
    const outcome = await pullApi(preset(server, { pageSize: 2 }), ENV);
    assert.equal(outcome.result?.rows, 5, errorText(outcome));
    const first = server.requests[0]!;
    assert.equal(first.url.pathname, '/api/resource/Bin');
    assert.equal(first.headers.authorization, AUTH);
    assert.deepEqual(JSON.parse(first.url.searchParams.get('fields')!), ['item_code', 'warehouse', 'actual_qty', 'reserved_qty', 'ordered_qty']);
    assert.equal(first.url.searchParams.get('order_by'), 'name asc');
    assert.deepEqual(
      server.requests.map((r) => [r.url.searchParams.get('limit_start'), r.url.searchParams.get('limit_page_length')]),
      [
        ['0', '2'],
        ['2', '2'],
        ['4', '2'],
      ],
    );
    assert.deepEqual(
      outcome.rows.find((r) => r.sku === 'ITEM-2'),
      { sku: 'ITEM-2', warehouse: 'Stores 2', on_hand: 21, reserved: 1, incoming: 1, safety_stock: null, category: null },
    );
    assert.equal(outcome.result?.snapshot.source, `${server.url}/api/resource/Bin`);
  });

  it('an exact multiple of the page size ends on an empty page; a site under a path prefix works', async () => {
    const server = await erpnext(bins(4));
    const outcome = await pullApi(preset(server, { pageSize: 2 }), ENV);
    assert.equal(outcome.result?.rows, 4, errorText(outcome));
    assert.equal(server.requests.length, 3);

    const prefixed = await startServer((request, response) => {
      request.url.pathname = request.url.pathname.replace(/^\/erp/, '');
      return erpnextHandler(bins(1), AUTH)(request, response);
    });
    servers.push(prefixed);
    const underPrefix = await pullApi(preset(prefixed, { url: `${prefixed.url}/erp/` }), ENV);
    assert.equal(underPrefix.result?.rows, 1, errorText(underPrefix));
  });

  it('12.0 is a whole number; 12.5 is a bad row named by page and index', async () => {
    const data = bins(3);
    data[2]!.actual_qty = 12.5;
    const server = await erpnext(data);
    const outcome = await pullApi(preset(server, { pageSize: 2 }), ENV);
    assert.deepEqual(outcome.error?.details, [`${server.url}/api/resource/Bin page 2, record 1: on_hand expected a whole number, got 12.5`]);
    assert.equal(outcome.snapshots, 0);
  });

  it('wrong credentials: a 401 that names no secret', async () => {
    const server = await erpnext(bins(1));
    const outcome = await pullApi(preset(server), { ERPNEXT_API_KEY: 'a1b2c3d4e5', ERPNEXT_API_SECRET: 'wrong-secret-value' });
    const printed = renderError(outcome.error);
    assert.match(printed, /api\/resource\/Bin page 1: HTTP 401 Unauthorized \(check the API credentials/);
    assert.doesNotMatch(printed, /wrong-secret-value|a1b2c3d4e5/);
  });

  it('a missing secret variable names erp.api.apiSecretEnv and the variable', async () => {
    const server = await erpnext(bins(1));
    const outcome = await pullApi(preset(server), { ERPNEXT_API_KEY: 'a1b2c3d4e5' });
    assert.match(outcome.error!.message, /erp\.api\.apiSecretEnv \(ERPNEXT_API_SECRET\): environment variable ERPNEXT_API_SECRET is not set/);
    assert.equal(server.requests.length, 0);
  });
});
