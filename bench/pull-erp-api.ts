// Pulls N records from a local fake ERP API (generic preset, offset/limit pages) with
// `invrecon pull erp --api` as a child process; prints records/s, wall time and the child's peak RSS.
// Memory should stay flat in N: records stream page by page into the snapshot.
// Usage: npx tsx bench/pull-erp-api.ts [counts=100000,1000000] [pageSize=1000]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure } from '../test/helpers/measure.js';

const counts = (process.argv[2] ?? '100000,1000000').split(',').map(Number);
const pageSize = Number(process.argv[3] ?? 1000);
const root = new URL('..', import.meta.url).pathname;
const warehouses = Array.from({ length: 10 }, (_, i) => `WH-${String(i).padStart(2, '0')}`);
const TOKEN = 'bench-token-not-secret';

// Records are generated per request from their index: the server holds none of them either.
let total = 0;
let requests = 0;
const server = createServer((request, response) => {
  requests++;
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (request.headers.authorization !== `Bearer ${TOKEN}`) return void response.writeHead(401).end();
  const offset = Number(url.searchParams.get('offset'));
  const limit = Number(url.searchParams.get('limit'));
  const items = [];
  for (let i = offset; i < Math.min(total, offset + limit); i++) {
    items.push({
      item: { sku: `SKU-${String(Math.floor(i / 10)).padStart(7, '0')}` },
      location: { code: warehouses[i % 10] },
      qty: { onHand: i % 97, reserved: i % 5, incoming: i % 3 },
    });
  }
  const body = JSON.stringify({ data: { items } });
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const results: { records: number; wallMs: number; peakRssMb: number | null; pages: number }[] = [];
for (const count of counts) {
  total = count;
  requests = 0;
  const out = join(root, 'bench', 'out', `pull-erp-api-${count}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const api = {
    url: `${base}/stock`,
    apiKeyEnv: 'BENCH_ERP_TOKEN',
    recordsPath: 'data.items',
    fields: { sku: 'item.sku', warehouse: 'location.code', on_hand: 'qty.onHand', reserved: 'qty.reserved', incoming: 'qty.incoming' },
    pagination: { style: 'offset' },
    pageSize,
  };
  writeFileSync(
    join(out, 'invrecon.config.json'),
    JSON.stringify({ shopify: { shop: 'bench.myshopify.com' }, erp: { api }, locations: [{ warehouses, shopifyLocation: 'Main' }] }),
  );
  const result = await measure(process.execPath, [join(root, 'bin', 'invrecon.js'), 'pull', 'erp', '--api', '--format', 'json'], {
    cwd: out,
    env: { ...process.env, BENCH_ERP_TOKEN: TOKEN },
  });
  if (result.code !== 0) throw new Error(`pull erp --api failed: ${result.stderr}`);
  const rows = (JSON.parse(result.stdout) as { rows: number }).rows;
  if (rows !== count) throw new Error(`expected ${count} rows, the snapshot has ${rows}`);
  results.push({ records: count, wallMs: result.wallMs, peakRssMb: result.peakRssMb, pages: requests });
}
server.close();

console.log(`pull erp --api, generic preset, pages of ${pageSize} (offset/limit) from a local fake server`);
for (const r of results) {
  console.log(
    `${r.records.toLocaleString('en-US').padStart(10)} records: ${(r.wallMs / 1000).toFixed(2)} s wall, ` +
      `${Math.round(r.records / (r.wallMs / 1000)).toLocaleString('en-US')} records/s, peak RSS ${r.peakRssMb?.toFixed(0) ?? '?'} MB, ${r.pages} requests`,
  );
}
