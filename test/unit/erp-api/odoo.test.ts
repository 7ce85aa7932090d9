import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { renderError } from '../../../src/cli/main.js';
import { errorText, odooHandler, pullApi, startServer, type FakeServer, type OdooQuant } from './fake-erp.js';

const servers: FakeServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
});

const KEY = 'odoo-k3y-0123456789';
const ENV = { ODOO_API_KEY: KEY };
const STOCK: [number, string] = [8, 'WH/Stock'];
const SHELF: [number, string] = [12, 'WH/Stock/Shelf 1'];
const TEE: [number, string] = [101, '[TEE-M] Tee M'];
const MUG: [number, string] = [102, '[MUG] Mug'];
const CAP: [number, string] = [103, 'Cap (no reference)'];

/** Lots and packages: several quants per (product, location), the pairs crossing page boundaries. */
const QUANTS: OdooQuant[] = [
  { id: 1, product: TEE, location: STOCK, quantity: 5, reserved: 1 },
  { id: 2, product: TEE, location: STOCK, quantity: 3.0, reserved: 0 },
  { id: 3, product: TEE, location: STOCK, quantity: 2, reserved: 2 },
  { id: 4, product: MUG, location: STOCK, quantity: 7, reserved: 0 },
  { id: 5, product: TEE, location: SHELF, quantity: 1, reserved: 0 },
  { id: 6, product: MUG, location: SHELF, quantity: 4, reserved: 1 },
  { id: 7, product: MUG, location: SHELF, quantity: 6, reserved: 0 },
];
const PRODUCTS = { 101: 'TEE-M', 102: 'MUG', 103: false as const };

async function odoo(options: Partial<Parameters<typeof odooHandler>[0]> = {}): Promise<FakeServer> {
  const server = await startServer(odooHandler({ quants: QUANTS, products: PRODUCTS, key: KEY, database: 'acme', ...options }));
  servers.push(server);
  return server;
}

const preset = (server: FakeServer, extra: Record<string, unknown> = {}) => ({
  preset: 'odoo',
  url: server.url,
  database: 'acme',
  apiKeyEnv: 'ODOO_API_KEY',
  pageSize: 2,
  ...extra,
});

const EXPECTED = [
  { sku: 'MUG', warehouse: 'WH/Stock', on_hand: 7, reserved: 0 },
  { sku: 'MUG', warehouse: 'WH/Stock/Shelf 1', on_hand: 10, reserved: 1 },
  { sku: 'TEE-M', warehouse: 'WH/Stock', on_hand: 10, reserved: 3 },
  { sku: 'TEE-M', warehouse: 'WH/Stock/Shelf 1', on_hand: 1, reserved: 0 },
];

describe('Odoo preset', () => {
  it('sums stock.quant per (product, location) over JSON-2, SKU from default_code, warehouse from the location name', async () => {
    const server = await odoo();
    const outcome = await pullApi(preset(server), ENV);
    assert.equal(outcome.error, undefined, errorText(outcome));
    assert.deepEqual(
      outcome.rows.map(({ sku, warehouse, on_hand, reserved }) => ({ sku, warehouse, on_hand, reserved })),
      EXPECTED,
    );
    const quantCalls = server.requests.filter((r) => r.url.pathname === '/json/2/stock.quant/search_read');
    assert.deepEqual(
      quantCalls.map((r) => (JSON.parse(r.body) as { offset: number }).offset),
      [0, 2, 4, 6],
    );
    const first = JSON.parse(quantCalls[0]!.body) as Record<string, unknown>;
    assert.deepEqual(first.fields, ['product_id', 'location_id', 'quantity', 'reserved_quantity']);
    assert.equal(first.limit, 2);
    assert.equal(quantCalls[0]!.headers.authorization, `bearer ${KEY}`);
    assert.equal(quantCalls[0]!.headers['x-odoo-database'], 'acme');
    assert.equal(quantCalls[0]!.method, 'POST');
    // Products are read in batches of the ids a page brings, each id once.
    const reads = server.requests.filter((r) => r.url.pathname === '/json/2/product.product/read').map((r) => (JSON.parse(r.body) as { ids: number[] }).ids);
    assert.deepEqual(reads, [[101], [102]]);
    assert.deepEqual(
      outcome.result?.warehouses.map((w) => w.code),
      ['WH/Stock', 'WH/Stock/Shelf 1'],
    );
  });

  it('a single page holding everything, and an exact multiple of the page size', async () => {
    const single = await odoo();
    const one = await pullApi(preset(single, { pageSize: 500 }), ENV);
    assert.equal(one.result?.rows, 4, errorText(one));
    assert.equal(single.requests.filter((r) => r.url.pathname.includes('stock.quant')).length, 1);

    const six = await odoo({ quants: QUANTS.slice(0, 6) });
    const exact = await pullApi(preset(six, { pageSize: 3 }), ENV);
    assert.equal(exact.result?.rows, 4, errorText(exact));
    assert.equal(six.requests.filter((r) => r.url.pathname.includes('stock.quant')).length, 3);
  });

  it('falls back to the legacy /jsonrpc endpoint when JSON-2 answers 404', async () => {
    const server = await odoo({ legacy: true, login: 'bot@acme.test', uid: 9 });
    const outcome = await pullApi(preset(server, { username: 'bot@acme.test' }), ENV);
    assert.equal(outcome.error, undefined, errorText(outcome));
    assert.deepEqual(
      outcome.rows.map(({ sku, warehouse, on_hand, reserved }) => ({ sku, warehouse, on_hand, reserved })),
      EXPECTED,
    );
    const rpc = server.requests
      .filter((r) => r.url.pathname === '/jsonrpc')
      .map((r) => JSON.parse(r.body) as { params: { service: string; method: string; args: unknown[] } });
    assert.deepEqual(rpc[0]!.params, { service: 'common', method: 'authenticate', args: ['acme', 'bot@acme.test', KEY, {}] });
    assert.deepEqual(rpc[1]!.params.args.slice(0, 5), ['acme', 9, KEY, 'stock.quant', 'search_read']);
    // Only the first call tries JSON-2.
    assert.equal(server.requests.filter((r) => r.url.pathname.startsWith('/json/2/')).length, 1);
  });

  it('the legacy fallback needs erp.api.username; a refused key is reported without the key', async () => {
    const server = await odoo({ legacy: true, login: 'bot@acme.test' });
    const missing = await pullApi(preset(server), ENV);
    assert.equal(missing.error?.kind, 'input');
    assert.match(
      missing.error.message,
      /erp\.api\.username: .*\/json\/2 answered 404 \(Odoo before 19 has no JSON-2 API, or database "acme" is not on that server\)/,
    );

    const refused = await pullApi(preset(server, { username: 'someone-else' }), ENV);
    const printed = renderError(refused.error);
    assert.match(printed, /jsonrpc common\.authenticate: Odoo refused the API key for login "someone-else" on database "acme"/);
    assert.doesNotMatch(printed, new RegExp(KEY));
  });

  it('a product without default_code is an error naming it (once), and no snapshot', async () => {
    const server = await odoo({
      quants: [
        ...QUANTS,
        { id: 8, product: CAP, location: STOCK, quantity: 1, reserved: 0 },
        { id: 9, product: CAP, location: SHELF, quantity: 1, reserved: 0 },
      ],
    });
    const outcome = await pullApi(preset(server), ENV);
    const problems = outcome.error?.details.filter((d) => d.includes('product 103')) ?? [];
    assert.equal(problems.length, 1, errorText(outcome));
    assert.match(problems[0]!, /stock\.quant\/search_read page \d, record \d: product 103 "Cap \(no reference\)" has no Internal Reference \(default_code\)/);
    assert.equal(outcome.snapshots, 0);
  });

  it('a fractional sum is a bad row named by the page and index of its first quant', async () => {
    const server = await odoo({ quants: [QUANTS[0]!, { ...QUANTS[1]!, quantity: 0.5 }, QUANTS[3]!] });
    const outcome = await pullApi(preset(server), ENV);
    assert.deepEqual(outcome.error?.details, [
      `${server.url}/json/2/stock.quant/search_read page 1, record 1 (summed with 1 more quant of that product there): on_hand expected a whole number, got 5.5`,
    ]);
  });

  it('a missing API key variable and an unknown database are clear', async () => {
    const server = await odoo();
    const noKey = await pullApi(preset(server), {});
    assert.match(noKey.error!.message, /erp\.api\.apiKeyEnv \(ODOO_API_KEY\): environment variable ODOO_API_KEY is not set/);
    const badDb = await odoo({ database: 'other' });
    const outcome = await pullApi(preset(badDb, { username: 'x' }), ENV);
    assert.match(errorText(outcome), /database "acme"/);
    assert.equal(outcome.snapshots, 0);
  });
});
