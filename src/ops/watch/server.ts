import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { erpColumnKeys, type ErpColumn } from '../../config/schema.js';
import { normalizeErpRecord, type ErpRow } from '../../sources/erp/rows.js';

/** One problem of a POST /erp/levels body: the row (null: the body itself), the field, what is wrong. */
export interface BodyError {
  index: number | null;
  field: string | null;
  message: string;
}

/** Validates a POST /erp/levels body as the CSV's rows are validated: all rows, or the errors of every bad one. */
export function parseErpBody(text: string): { rows: ErpRow[]; errors: BodyError[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { rows: [], errors: [{ index: null, field: null, message: `the body is not JSON: ${(error as Error).message}` }] };
  }
  if (!Array.isArray(body)) return { rows: [], errors: [{ index: null, field: null, message: 'expected a JSON array of ERP rows' }] };
  const rows: ErpRow[] = [];
  const errors: BodyError[] = [];
  const seen = new Map<string, number>();
  body.forEach((record: unknown, index) => {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      errors.push({ index, field: null, message: 'expected an object with sku, warehouse, on_hand, reserved' });
      return;
    }
    const fields: Partial<Record<ErpColumn, string | number | null>> = {};
    for (const [key, value] of Object.entries(record as Record<string, unknown>)) {
      if (!(erpColumnKeys as readonly string[]).includes(key)) {
        errors.push({ index, field: key, message: `unknown field; expected ${erpColumnKeys.join(', ')}` });
        continue;
      }
      if (value !== null && typeof value !== 'string' && typeof value !== 'number') {
        errors.push({ index, field: key, message: `expected a string or a number, got ${Array.isArray(value) ? 'an array' : typeof value}` });
        continue;
      }
      fields[key as ErpColumn] = value;
    }
    if (fields.reserved === undefined && !Object.hasOwn(record, 'reserved'))
      errors.push({ index, field: 'reserved', message: 'is missing; rows carry absolute values' });
    const { row, problems } = normalizeErpRecord(fields);
    for (const p of problems) errors.push({ index, field: p.column, message: `${p.column} ${p.message}` });
    if (!row) return;
    const key = `${row.sku}\u0000${row.warehouse}`;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push({ index, field: 'sku', message: `SKU ${JSON.stringify(row.sku)} in warehouse ${JSON.stringify(row.warehouse)} is also row ${first}` });
      return;
    }
    seen.set(key, index);
    rows.push(row);
  });
  return { rows: errors.length > 0 ? [] : rows, errors };
}

/** Shopify's inventory_levels/update body: numeric REST ids (or GraphQL ids), available, updated_at. */
export function parseLevelUpdate(
  text: string,
): { inventoryItemId: string; locationId: string; available: number; updatedAt: string | null } | { error: string } {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { error: 'the body is not JSON' };
  }
  if (body === null || typeof body !== 'object') return { error: 'expected a JSON object' };
  const gid = (value: unknown, type: string): string | null => {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return `gid://shopify/${type}/${value}`;
    if (typeof value === 'string' && /^\d+$/.test(value)) return `gid://shopify/${type}/${value}`;
    if (typeof value === 'string' && value.startsWith(`gid://shopify/${type}/`)) return value;
    return null;
  };
  const inventoryItemId = gid(body.inventory_item_id, 'InventoryItem');
  const locationId = gid(body.location_id, 'Location');
  if (!inventoryItemId) return { error: 'inventory_item_id: expected an id' };
  if (!locationId) return { error: 'location_id: expected an id' };
  if (typeof body.available !== 'number' || !Number.isInteger(body.available)) return { error: 'available: expected a whole number' };
  const updatedAt = typeof body.updated_at === 'string' && !Number.isNaN(Date.parse(body.updated_at)) ? body.updated_at : null;
  return { inventoryItemId, locationId, available: body.available, updatedAt };
}

/** Shopify's signature: base64 HMAC-SHA256 of the raw body, compared in constant time. */
export function verifyShopifyHmac(raw: Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  const given = Buffer.from(header, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface WatchHandlers {
  token: string;
  webhookSecret: string | undefined;
  maxBodyBytes: number;
  /** Stores the rows durably (one transaction); throws when it could not. */
  acceptErp(rows: ErpRow[], raw: string): void;
  acceptWebhook(
    update: { webhookId: string | null; topic: string | undefined; inventoryItemId: string; locationId: string; available: number; updatedAt: string | null },
    raw: string,
  ): string;
  health(): Record<string, unknown>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Whether the process is draining (new events are refused with 503). */
  draining(): boolean;
  onError(error: unknown): void;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', ...headers });
  res.end(text);
}

export function createWatchServer(h: WatchHandlers): Server {
  return createServer((req, res) => {
    void route(req, res, h).catch((error: unknown) => {
      h.onError(error);
      if (!res.headersSent) send(res, 500, { error: 'internal error: see the watch log' });
      else res.destroy();
    });
  });
}

async function route(req: IncomingMessage, res: ServerResponse, h: WatchHandlers): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  if (path === '/healthz' && method === 'GET') return send(res, 200, h.health());
  if (path === '/metrics' && method === 'GET') {
    const { contentType, body } = await h.metrics();
    return send(res, 200, body, { 'content-type': contentType });
  }
  if (path === '/erp/levels' || path === '/webhooks/shopify') {
    if (method !== 'POST') return send(res, 405, { error: 'use POST' }, { allow: 'POST' });
    if (h.draining()) return send(res, 503, { error: 'watch is stopping; send again later' }, { 'retry-after': '5' });
    if (path === '/erp/levels') {
      if (!bearerMatches(req.headers.authorization, h.token))
        return send(res, 401, { error: 'missing or wrong bearer token (INVRECON_WATCH_TOKEN)' }, { 'www-authenticate': 'Bearer' });
      let raw: Buffer;
      try {
        raw = await readBody(req, h.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge)
          return send(res, 413, {
            errors: [
              { index: null, field: null, message: `the body is larger than ${h.maxBodyBytes} bytes (watch.maxBodyBytes); send fewer rows per request` },
            ],
          });
        throw error;
      }
      const { rows, errors } = parseErpBody(raw.toString('utf8'));
      if (errors.length > 0) return send(res, 400, { errors });
      h.acceptErp(rows, raw.toString('utf8'));
      return send(res, 202, { accepted: rows.length });
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, h.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) return send(res, 413, { error: 'body too large' });
      throw error;
    }
    if (h.webhookSecret === undefined) return send(res, 503, { error: 'SHOPIFY_WEBHOOK_SECRET is not set: Shopify webhooks are not taken' });
    const signature = req.headers['x-shopify-hmac-sha256'];
    if (!verifyShopifyHmac(raw, typeof signature === 'string' ? signature : undefined, h.webhookSecret))
      return send(res, 401, { error: 'bad or missing X-Shopify-Hmac-Sha256' });
    const topic = typeof req.headers['x-shopify-topic'] === 'string' ? req.headers['x-shopify-topic'] : undefined;
    // Other topics are acknowledged (Shopify would retry otherwise) and ignored.
    if (topic !== undefined && topic !== 'inventory_levels/update') return send(res, 200, { ignored: `topic ${topic}` });
    const parsed = parseLevelUpdate(raw.toString('utf8'));
    if ('error' in parsed) return send(res, 400, { error: parsed.error });
    const webhookId = req.headers['x-shopify-webhook-id'];
    const outcome = h.acceptWebhook(
      { ...parsed, webhookId: typeof webhookId === 'string' && webhookId !== '' ? webhookId : null, topic },
      raw.toString('utf8'),
    );
    return send(res, 200, { outcome });
  }
  return send(res, 404, { error: `no route ${method} ${path}; routes: POST /erp/levels, POST /webhooks/shopify, GET /healthz, GET /metrics` });
}

export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}
