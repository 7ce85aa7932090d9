// The emulator-only routes under /_emulator/ (not Shopify): state, history, counters, faults, sales and bulk result files.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BulkManager } from './bulk.js';
import { readBody, sendJson } from './http.js';
import type { ShopResource } from './metafields.js';
import type { QuantityName } from './seed.js';
import type { EmulatorCounters, FaultOptions } from './server.js';
import type { ShopStore } from './store.js';

/** The parts of the emulator these routes read and drive. */
export interface InspectedEmulator {
  readonly store: ShopStore;
  readonly shop: ShopResource;
  readonly bulk: BulkManager;
  readonly counters: EmulatorCounters;
  readonly faultSettings: Readonly<FaultOptions>;
  setFaults(partial: FaultOptions): void;
  saleByIds(inventoryItemId: string, locationId: string, quantity?: number): Record<QuantityName, number>;
}

export async function handleInspection(emulator: InspectedEmulator, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  const bulkFile = /^\/_emulator\/bulk\/(\d+)\.jsonl$/.exec(path);
  if (bulkFile && req.method === 'GET') {
    const file = emulator.bulk.filePath(bulkFile[1]!);
    if (!file) return sendJson(res, { status: 404, body: { errors: 'No such bulk operation result' } });
    res.writeHead(200, { 'content-type': 'application/jsonl' });
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
    return;
  }
  if (path === '/_emulator/state' && req.method === 'GET') return streamState(emulator, res, url);
  if (path === '/_emulator/history' && req.method === 'GET')
    return sendJson(res, { status: 200, body: { history: emulator.store.history, counters: emulator.counters } });
  if (path === '/_emulator/counters' && req.method === 'GET') return sendJson(res, { status: 200, body: emulator.counters });
  if ((path === '/_emulator/sale' || path === '/_emulator/faults') && req.method === 'POST') {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse((await readBody(req)) ?? '') as Record<string, unknown>;
    } catch {
      return sendJson(res, { status: 400, body: { errors: 'Body is not valid JSON' } });
    }
    try {
      if (path === '/_emulator/faults') {
        emulator.setFaults(body);
        return sendJson(res, { status: 200, body: emulator.faultSettings });
      }
      const quantities = emulator.saleByIds(String(body['inventoryItemId']), String(body['locationId']), Number(body['quantity'] ?? 1));
      return sendJson(res, { status: 200, body: { quantities } });
    } catch (error) {
      return sendJson(res, { status: 400, body: { errors: (error as Error).message } });
    }
  }
  sendJson(res, { status: 404, body: { errors: 'Not Found' } });
}

/** GET /_emulator/state, written level by level so a big shop never becomes one string. */
async function streamState(emulator: InspectedEmulator, res: ServerResponse, url: URL): Promise<void> {
  const sku = url.searchParams.get('sku');
  const itemFilter = url.searchParams.get('inventoryItemId');
  const locationFilter = url.searchParams.get('locationId');
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  const write = async (text: string) => {
    if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
  };
  await write('{"levels":[');
  let first = true;
  const store = emulator.store;
  for (let item = 0; item < store.itemCount; item++) {
    if (sku !== null && store.itemSkus[item] !== sku) continue;
    if (itemFilter !== null && store.itemIds[item] !== itemFilter) continue;
    for (let level = store.levelStart[item]!; level < store.levelStart[item + 1]!; level++) {
      const locationId = store.locations[store.levelLocation[level]!]!.id;
      if (locationFilter !== null && locationId !== locationFilter) continue;
      const entry = { inventoryItemId: store.itemIds[item], locationId, sku: store.itemSkus[item], quantities: store.levelQuantities(level) };
      await write((first ? '' : ',') + JSON.stringify(entry));
      first = false;
    }
  }
  await write(
    `],"locations":${JSON.stringify(store.locations)},"shop":${JSON.stringify({ id: emulator.shop.id, myshopifyDomain: emulator.shop.myshopifyDomain, metafields: emulator.shop.all() })},"history":${JSON.stringify(emulator.store.history)},"counters":${JSON.stringify(emulator.counters)}}`,
  );
  res.end();
}
