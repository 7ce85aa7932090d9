// Small fake ERP servers for the API source tests (unit and e2e): node:http on 127.0.0.1, port 0.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../src/config/load.js';
import { InvreconError } from '../../../src/errors.js';
import { apiErpSource } from '../../../src/sources/erp/api/index.js';
import { ingestErp, type ErpPullResult } from '../../../src/sources/erp/ingest.js';
import { openDb } from '../../../src/store/db.js';

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

export async function startServer(handler: Handler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

/** Stock records of the generic fake: nested so that field mapping with dot paths is exercised. */
export function genericRecords(count: number): { item: { code: string }; location: { code: string }; qty: { onHand: number; reserved: number } }[] {
  return Array.from({ length: count }, (_, i) => ({
    item: { code: `SKU-${String(i + 1).padStart(4, '0')}` },
    location: { code: i % 2 === 0 ? 'WH-A' : 'WH-B' },
    qty: { onHand: 10 + i, reserved: i % 3 },
  }));
}

/** ERPNext `Bin` list: `/api/resource/Bin?fields=[...]&limit_start&limit_page_length`, `{ data: [...] }`, token auth. */
export function erpnextHandler(bins: Record<string, unknown>[], auth: string): Handler {
  return (request, response) => {
    if (request.url.pathname !== '/api/resource/Bin') return sendJson(response, 404, { exc_type: 'DoesNotExistError' });
    if (request.headers.authorization !== auth) return sendJson(response, 401, { exc_type: 'AuthenticationError', message: 'Invalid credentials' });
    const fields = JSON.parse(request.url.searchParams.get('fields') ?? '["name"]') as string[];
    const start = Number(request.url.searchParams.get('limit_start') ?? 0);
    const length = Number(request.url.searchParams.get('limit_page_length') ?? 20);
    const page = bins.slice(start, start + length).map((bin) => Object.fromEntries(fields.map((field) => [field, bin[field]])));
    sendJson(response, 200, { data: page });
  };
}

export interface OdooQuant {
  id: number;
  product: [number, string];
  location: [number, string];
  quantity: number;
  reserved: number;
}

/**
 * Odoo: JSON-2 (`POST /json/2/<model>/<method>`, bearer key, X-Odoo-Database) or, with legacy, only
 * the JSON-RPC endpoint (`/json/2` answers 404). Orders quants as Odoo would for the order asked.
 */
export function odooHandler(options: {
  quants: OdooQuant[];
  products: Record<number, string | false>;
  key: string;
  database: string;
  legacy?: boolean;
  uid?: number;
  login?: string;
}): Handler {
  const sorted = [...options.quants].sort(
    (a, b) => a.location[1].localeCompare(b.location[1]) || a.location[0] - b.location[0] || a.product[0] - b.product[0] || a.id - b.id,
  );
  const searchRead = (domain: unknown, kw: { fields?: string[]; offset?: number; limit?: number; order?: string }) => {
    if (JSON.stringify(domain) !== JSON.stringify([['location_id.usage', '=', 'internal']])) throw new Error(`unexpected domain ${JSON.stringify(domain)}`);
    if (kw.order !== 'location_id, product_id, id') throw new Error(`unexpected order ${kw.order}`);
    const rows = sorted.slice(kw.offset ?? 0, (kw.offset ?? 0) + (kw.limit ?? sorted.length));
    return rows.map((q) => ({ id: q.id, product_id: q.product, location_id: q.location, quantity: q.quantity, reserved_quantity: q.reserved }));
  };
  const read = (ids: number[]) =>
    ids.filter((id) => id in options.products).map((id) => ({ id, default_code: options.products[id], display_name: `Product ${id}` }));
  return (request, response) => {
    if (request.url.pathname.startsWith('/json/2/')) {
      if (options.legacy) return sendJson(response, 404, { name: 'werkzeug.exceptions.NotFound' });
      if (request.headers.authorization !== `bearer ${options.key}`)
        return sendJson(response, 401, { name: 'werkzeug.exceptions.Unauthorized', message: 'Invalid apikey' });
      if (request.headers['x-odoo-database'] !== options.database) return sendJson(response, 404, { message: 'database not found' });
      const body = JSON.parse(request.body) as { ids?: number[]; domain?: unknown; fields?: string[]; offset?: number; limit?: number; order?: string };
      if (request.url.pathname === '/json/2/stock.quant/search_read') return sendJson(response, 200, searchRead(body.domain, body));
      if (request.url.pathname === '/json/2/product.product/read') return sendJson(response, 200, read(body.ids ?? []));
      return sendJson(response, 404, { message: 'no such method' });
    }
    if (request.url.pathname === '/jsonrpc') {
      const call = JSON.parse(request.body) as { id: number; params: { service: string; method: string; args: unknown[] } };
      const { service, method, args } = call.params;
      const reply = (result: unknown) => sendJson(response, 200, { jsonrpc: '2.0', id: call.id, result });
      if (service === 'common' && method === 'authenticate') {
        const [db, login, key] = args as [string, string, string];
        return reply(db === options.database && login === options.login && key === options.key ? (options.uid ?? 7) : false);
      }
      if (service === 'object' && method === 'execute_kw') {
        const [db, uid, key, model, name, positional, named] = args as [string, number, string, string, string, unknown[], Record<string, unknown>];
        if (db !== options.database || uid !== (options.uid ?? 7) || key !== options.key) {
          return sendJson(response, 200, {
            jsonrpc: '2.0',
            id: call.id,
            error: { code: 100, message: 'Odoo Session Expired', data: { name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' } },
          });
        }
        if (model === 'stock.quant' && name === 'search_read') return reply(searchRead(positional[0], named));
        if (model === 'product.product' && name === 'read') return reply(read(positional[0] as number[]));
      }
      return sendJson(response, 200, { jsonrpc: '2.0', id: call.id, error: { message: 'unknown call', data: { message: `${service}.${method}` } } });
    }
    sendJson(response, 404, {});
  };
}

// ---- Running a pull through the real ingest, for the unit tests ----

export interface PullOutcome {
  result?: ErpPullResult;
  error?: InvreconError;
  rows: { sku: string; warehouse: string; on_hand: number; reserved: number; incoming: number; safety_stock: number | null; category: string | null }[];
  snapshots: number;
  /** Waits the HTTP client asked for (not slept), and its retry notices. */
  sleeps: number[];
  logs: string[];
}

export const CONFIG_PATH = '/cfg/invrecon.config.json';

export function configWithApi(api: Record<string, unknown>) {
  return resolveConfig(
    {
      shopify: { shop: 'acme.myshopify.com' },
      erp: { api },
      locations: [{ warehouses: ['WH-A', 'WH-B', 'WH/Stock', 'Stores', 'Stores 2'], shopifyLocation: 'Main Warehouse' }],
    },
    CONFIG_PATH,
  );
}

/** Runs apiErpSource + ingestErp into a fresh database; waits are recorded instead of slept. */
export async function pullApi(api: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<PullOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'invrecon-erp-api-'));
  const db = openDb(join(dir, 'snapshot.db'));
  const sleeps: number[] = [];
  const logs: string[] = [];
  const outcome: PullOutcome = { rows: [], snapshots: 0, sleeps, logs };
  try {
    const config = configWithApi(api);
    const source = apiErpSource(config, { env, sleep: async (ms) => void sleeps.push(ms), log: (message) => void logs.push(message) });
    outcome.result = await ingestErp(db, source, { mappedWarehouses: new Set(config.locations.flatMap((l) => l.warehouses)) });
  } catch (error) {
    if (!(error instanceof InvreconError)) throw error;
    outcome.error = error;
  } finally {
    outcome.rows = db
      .prepare('SELECT sku, warehouse, on_hand, reserved, incoming, safety_stock, category FROM erp_levels ORDER BY sku, warehouse')
      .all() as PullOutcome['rows'];
    outcome.snapshots = db.prepare('SELECT count(*) FROM snapshots').pluck().get() as number;
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return outcome;
}

/** The whole error as the CLI would print it (message and detail lines). */
export function errorText(outcome: PullOutcome): string {
  return outcome.error ? [outcome.error.message, ...outcome.error.details].join('\n') : '';
}
