import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Seed } from '../../src/emulator/index.js';
import { TEST_TOKEN, openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';
import { sendJson, startServer, type FakeServer, type RecordedRequest } from '../unit/erp-api/fake-erp.js';
import { spawnWatch, type WatchProcess } from './watch-helpers.js';

const L1 = 'gid://shopify/Location/1';
const ITEM = { a: 'gid://shopify/InventoryItem/501', b: 'gid://shopify/InventoryItem/502' };
const seed = {
  locations: [{ id: L1, name: 'Main Warehouse' }],
  items: [
    { sku: 'POLL-A', inventoryItemId: ITEM.a, levels: [{ locationId: L1, available: 10, on_hand: 10 }] },
    { sku: 'POLL-B', inventoryItemId: ITEM.b, levels: [{ locationId: L1, available: 20, on_hand: 20 }] },
  ],
} as Seed;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A level of the fake ERP; `modified` is what the fake filters on when the poll sends its cursor. */
interface Level {
  sku: string;
  qty: number;
  modified: Date;
}

interface Preset {
  name: string;
  env: Record<string, string>;
  api: (url: string) => Record<string, unknown>;
  /** The cursor a request carries, or null for a full read. */
  cursor: (request: RecordedRequest) => string | null;
  cursorFormat: RegExp;
  /** Answers with the levels modified at or after the cursor (all without one). */
  answer: (request: RecordedRequest, levels: Level[]) => { status: number; body: unknown };
}

const generic: Preset = {
  name: 'generic (watch.poll.cursorParam)',
  env: { ERP_TOKEN: 'poll-e2e-erp-token-93c1' },
  api: (url) => ({
    url: `${url}/items`,
    apiKeyEnv: 'ERP_TOKEN',
    recordsPath: 'items',
    fields: { sku: 'code', warehouse: 'wh', on_hand: 'qty' },
    pagination: { style: 'offset' },
    pageSize: 50,
  }),
  cursor: (request) => request.url.searchParams.get('modified_since'),
  cursorFormat: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
  answer: (request, levels) => {
    if (request.headers.authorization !== 'Bearer poll-e2e-erp-token-93c1') return { status: 401, body: { error: 'no token' } };
    const since = generic.cursor(request);
    const offset = Number(request.url.searchParams.get('offset'));
    const limit = Number(request.url.searchParams.get('limit'));
    const matching = levels.filter((l) => since === null || l.modified.getTime() >= Date.parse(since));
    return { status: 200, body: { items: matching.slice(offset, offset + limit).map((l) => ({ code: l.sku, wh: 'WH-A', qty: l.qty })) } };
  },
};

const frappeTime = (at: Date) => at.toISOString().replace('T', ' ').replace('Z', '');
const erpnext: Preset = {
  name: 'ERPNext (Bin.modified)',
  env: { ERPNEXT_API_KEY: 'poll-key-11', ERPNEXT_API_SECRET: 'poll-secret-22' },
  api: (url) => ({ preset: 'erpnext', url, apiKeyEnv: 'ERPNEXT_API_KEY', apiSecretEnv: 'ERPNEXT_API_SECRET' }),
  cursor: (request) => {
    const filters = request.url.searchParams.get('filters');
    if (filters === null) return null;
    const parsed = JSON.parse(filters) as [string, string, string][];
    assert.deepEqual(
      parsed.map(([field, op]) => [field, op]),
      [['modified', '>=']],
    );
    return parsed[0]![2];
  },
  cursorFormat: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/,
  answer: (request, levels) => {
    if (request.url.pathname !== '/api/resource/Bin') return { status: 404, body: { exc_type: 'DoesNotExistError' } };
    if (request.headers.authorization !== 'token poll-key-11:poll-secret-22') return { status: 401, body: { exc_type: 'AuthenticationError' } };
    const since = erpnext.cursor(request);
    const start = Number(request.url.searchParams.get('limit_start') ?? 0);
    const length = Number(request.url.searchParams.get('limit_page_length') ?? 20);
    // Frappe compares "YYYY-MM-DD HH:MM:SS[.ffffff]" strings.
    const matching = levels.filter((l) => since === null || frappeTime(l.modified) >= since);
    const bins = matching.map((l) => ({
      item_code: l.sku,
      warehouse: 'WH-A',
      actual_qty: l.qty,
      reserved_qty: 0,
      ordered_qty: 0,
      modified: frappeTime(l.modified),
    }));
    return { status: 200, body: { data: bins.slice(start, start + length) } };
  },
};

/** Odoo's JSON-2 `stock.quant/search_read` domain term on this field, if the request carries one. */
const odooTerm = (request: RecordedRequest, field: string): unknown => {
  if (request.url.pathname !== '/json/2/stock.quant/search_read') return undefined;
  const { domain } = JSON.parse(request.body) as { domain: [string, string, unknown][] };
  return domain.find(([name]) => name === field)?.[2];
};
const odooTime = (at: Date) =>
  at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
const productIds: Record<string, number> = { 'POLL-A': 41, 'POLL-B': 42 };
const odoo: Preset = {
  name: 'Odoo (stock.quant write_date, then the changed products read whole)',
  env: { ODOO_KEY: 'poll-odoo-key-77' },
  api: (url) => ({ preset: 'odoo', url, database: 'acme', apiKeyEnv: 'ODOO_KEY' }),
  cursor: (request) => (odooTerm(request, 'write_date') as string | undefined) ?? null,
  cursorFormat: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/,
  answer: (request, levels) => {
    if (request.headers.authorization !== 'bearer poll-odoo-key-77' || request.headers['x-odoo-database'] !== 'acme') return { status: 401, body: {} };
    const body = JSON.parse(request.body) as { ids?: number[]; offset?: number; limit?: number };
    if (request.url.pathname === '/json/2/product.product/read') {
      const codes = Object.entries(productIds).filter(([, id]) => body.ids?.includes(id));
      return { status: 200, body: codes.map(([sku, id]) => ({ id, default_code: sku, display_name: sku })) };
    }
    if (request.url.pathname !== '/json/2/stock.quant/search_read') return { status: 404, body: {} };
    const since = odoo.cursor(request);
    const skus = odooTerm(request, 'product_id.default_code') as string[] | undefined;
    // Odoo compares write_date as "YYYY-MM-DD HH:MM:SS" in UTC.
    const matching = levels.filter((l) => (since === null || odooTime(l.modified) >= since) && (skus === undefined || skus.includes(l.sku)));
    const quants = matching.map((l, i) => ({
      id: 900 + i,
      product_id: [productIds[l.sku], l.sku],
      location_id: [8, 'WH-A'],
      quantity: l.qty,
      reserved_quantity: 0,
    }));
    const offset = body.offset ?? 0;
    return { status: 200, body: quants.slice(offset, offset + (body.limit ?? quants.length)) };
  },
};

for (const preset of [generic, erpnext, odoo]) {
  describe(`invrecon watch --poll: ${preset.name}`, () => {
    let shop: ShopWorkspace | undefined;
    let erp: FakeServer | undefined;
    let watch: WatchProcess | undefined;
    after(async () => {
      const code = await watch?.stop();
      await shop?.close();
      await erp?.close();
      assert.equal(code, 0, watch?.stderr());
    });

    it('a level changed in the ERP reaches Shopify on a later poll, asked with the cursor', async () => {
      const hourAgo = new Date(Date.now() - 3_600_000);
      const levels: Level[] = [
        { sku: 'POLL-A', qty: 10, modified: hourAgo },
        { sku: 'POLL-B', qty: 20, modified: hourAgo },
      ];
      erp = await startServer((request, response) => {
        const { status, body } = preset.answer(request, levels);
        sendJson(response, status, body);
      });
      const config = {
        shopify: { shop: 'test-shop.myshopify.com' },
        erp: { api: preset.api(erp.url) },
        locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main Warehouse' }],
        // 1 s: the schema's minimum. ERPNext and Odoo need no cursorParam (they filter on Bin.modified, stock.quant.write_date).
        watch: { poll: { intervalSeconds: 1, ...(preset === generic ? { cursorParam: 'modified_since' } : {}) } },
      };
      shop = await openShopWorkspace({ seed, files: { 'invrecon.config.json': JSON.stringify(config, null, 2) } });
      // No snapshot yet: watch pulls both sides first (the ERP in full, without a cursor), then polls.
      const env = { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url, ...preset.env };
      watch = await spawnWatch(shop.dir, env, ['--poll', '--port', '0', '--log-format', 'json']);
      const requests = erp.requests;
      const polls = () => requests.filter((r) => preset.cursor(r) !== null);
      for (let i = 0; i < 600 && polls().length === 0; i++) await sleep(100);
      assert.ok(polls().length > 0, `no poll with a cursor reached the ERP: ${watch.stderr()}`);
      assert.equal(preset.cursor(requests[0]!), null, 'the seed pull reads everything');
      const cursor = preset.cursor(polls()[0]!)!;
      assert.match(cursor, preset.cursorFormat);
      assert.ok(Date.parse(cursor.replace(' ', 'T') + (cursor.endsWith('Z') ? '' : 'Z')) < Date.now(), 'the cursor lies in the past (overlap)');

      const seen = polls().length;
      levels[0] = { sku: 'POLL-A', qty: 17, modified: new Date() };
      // Generous bound: a later poll (1 s interval) picks it up and the write goes out.
      for (let i = 0; i < 600 && shop.emulator.state.level(ITEM.a, L1)?.available !== 17; i++) await sleep(100);
      assert.equal(shop.emulator.state.level(ITEM.a, L1)!.available, 17, watch.stderr());
      assert.ok(polls().length > seen, 'picked up by a later poll');
      if (preset === odoo) {
        const reReads = requests.map((r) => odooTerm(r, 'product_id.default_code')).filter((skus) => skus !== undefined);
        assert.deepEqual(reReads.at(-1), ['POLL-A'], 'Odoo: the changed product is read again whole, by SKU');
      }
      assert.equal(shop.emulator.state.level(ITEM.b, L1)!.available, 20, 'the unchanged SKU is not written');
      for (const secret of Object.values(preset.env)) assert.ok(!watch.stderr().includes(secret), 'no ERP secret in the log');
    });
  });
}
