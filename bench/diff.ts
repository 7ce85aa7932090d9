// Times the reconcile diff over SKUS × LOCATIONS levels (default 100,000 × 10 = 1,000,000, 1% drifting)
// against a bare FULL OUTER JOIN of the two level tables in the sqlite3 CLI, on the same data.
// Usage: npx tsx bench/diff.ts [skus=100000] [locations=10]
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../src/config/load.js';
import { computeDiff } from '../src/reconcile/diff.js';
import { openDb } from '../src/store/db.js';
import { measure } from '../test/helpers/measure.js';

const skus = Number(process.argv[2] ?? 100_000);
const locations = Number(process.argv[3] ?? 10);
const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'bench', 'out', `diff-${skus}x${locations}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const dbPath = join(out, '.invrecon', 'snapshot.db');

// ---- Build the snapshot database directly: one ERP warehouse per Shopify location. ----
const buildStarted = performance.now();
const db = openDb(dbPath);
db.pragma('synchronous = OFF');
const pad = (n: string) => `substr('0000000' || ${n}, -7)`;
db.exec(`
  CREATE TEMP TABLE n_sku (n INTEGER PRIMARY KEY);
  WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${skus}) INSERT INTO n_sku SELECT n FROM c;
  CREATE TEMP TABLE n_loc (n INTEGER PRIMARY KEY);
  WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${locations}) INSERT INTO n_loc SELECT n FROM c;
  BEGIN;
  INSERT INTO snapshots (id, side, source, taken_at, row_count, content_hash) VALUES
    (1, 'erp', 'bench', '2026-01-01T00:00:00Z', ${skus * locations}, 'bench-erp'),
    (2, 'shopify', 'bench.myshopify.com', '2026-01-01T00:00:01Z', ${skus * locations}, 'bench-shopify');
  -- on_hand 3..52, reserved 0..2, no safety column: available = on_hand − reserved.
  INSERT INTO erp_levels (snapshot_id, sku, warehouse, on_hand, reserved, incoming, safety_stock, category, line)
    SELECT 1, 'SKU-' || ${pad('s.n')}, 'WH-' || substr('00' || l.n, -2), 3 + (s.n * 7 + l.n * 13) % 50, (s.n + l.n) % 3, 0, NULL, 'cat-' || (s.n % 20), 0
    FROM n_sku s, n_loc l ORDER BY s.n, l.n;
  INSERT INTO shopify_locations (snapshot_id, location_id, name) SELECT 2, 'gid://shopify/Location/' || n, 'Location ' || n FROM n_loc;
  INSERT INTO shopify_items (snapshot_id, inventory_item_id, sku) SELECT 2, 'gid://shopify/InventoryItem/' || ${pad('n')}, 'SKU-' || ${pad('n')} FROM n_sku;
  -- 1% of levels drift: every hundredth (sku, location) pair is off by 1..5.
  INSERT INTO shopify_levels (snapshot_id, inventory_item_id, location_id, sku, available, on_hand, committed, reserved, incoming)
    SELECT 2, 'gid://shopify/InventoryItem/' || ${pad('s.n')}, 'gid://shopify/Location/' || l.n, 'SKU-' || ${pad('s.n')},
      3 + (s.n * 7 + l.n * 13) % 50 - (s.n + l.n) % 3 + CASE WHEN (s.n * ${locations} + l.n) % 100 = 0 THEN 1 + s.n % 5 ELSE 0 END,
      3 + (s.n * 7 + l.n * 13) % 50, 0, 0, 0
    FROM n_sku s, n_loc l ORDER BY s.n, l.n;
  -- The same levels keyed by (sku, location) for the bare join in sqlite3.
  CREATE TABLE bench_erp (sku TEXT NOT NULL, location_id TEXT NOT NULL, on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, PRIMARY KEY (sku, location_id)) WITHOUT ROWID;
  INSERT INTO bench_erp SELECT e.sku, 'gid://shopify/Location/' || CAST(substr(e.warehouse, 4) AS INTEGER), e.on_hand, e.reserved FROM erp_levels e ORDER BY 1, 2;
  CREATE TABLE bench_shop (sku TEXT NOT NULL, location_id TEXT NOT NULL, available INTEGER NOT NULL, PRIMARY KEY (sku, location_id)) WITHOUT ROWID;
  INSERT INTO bench_shop SELECT sku, location_id, available FROM shopify_levels ORDER BY 1, 2;
  COMMIT;
`);
db.exec('ANALYZE');
db.close();
const buildMs = performance.now() - buildStarted;

const configPath = join(out, 'invrecon.config.json');
const rawConfig = {
  shopify: { shop: 'bench.myshopify.com' },
  erp: { csv: { path: 'erp.csv' } },
  locations: Array.from({ length: locations }, (_, i) => ({ warehouses: [`WH-${String(i + 1).padStart(2, '0')}`], shopifyLocation: `Location ${i + 1}` })),
};
writeFileSync(configPath, JSON.stringify(rawConfig, null, 2));
const config = resolveConfig(rawConfig, configPath);
const expectedDrift = Math.floor((skus * locations + locations) / 100) - Math.floor(locations / 100);

const runs = 3;
const best = (list: number[]) => Math.min(...list);

// ---- In process: computeDiff on the open database (what plan and sync call). ----
const inProcess: number[] = [];
let drifting = 0;
let compared = 0;
{
  const bench = openDb(dbPath);
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = computeDiff(bench, config);
    inProcess.push(performance.now() - started);
    drifting = result.summary.levelsDrifting;
    compared = result.summary.levelsCompared;
  }
  bench.close();
}
if (compared !== skus * locations) throw new Error(`expected ${skus * locations} levels compared, got ${compared}`);
if (drifting !== expectedDrift) throw new Error(`expected ${expectedDrift} drifting levels, got ${drifting}`);

// ---- As a user runs it: invrecon diff --format json, a child process. ----
const cliRuns: number[] = [];
let cliRss = 0;
for (let i = 0; i < 2; i++) {
  const result = await measure(process.execPath, [join(root, 'bin', 'invrecon.js'), 'diff', '--format', 'json'], { cwd: out });
  if (result.code !== 0) throw new Error(`invrecon diff failed: ${result.stderr}`);
  if (JSON.parse(result.stdout).rows.length !== expectedDrift) throw new Error('invrecon diff printed an unexpected number of rows');
  cliRuns.push(result.wallMs);
  cliRss = Math.max(cliRss, result.peakRssMb ?? 0);
}

// ---- The yardstick: a bare FULL OUTER JOIN of the two level tables in the sqlite3 CLI. ----
const joins: number[] = [];
if (existsSync('/usr/bin/sqlite3')) {
  for (let i = 0; i < runs; i++) {
    const script = ['.timer on', 'SELECT count(*) FROM bench_erp e FULL OUTER JOIN bench_shop s ON s.sku = e.sku AND s.location_id = e.location_id;'].join('\n');
    const result = await measure('/usr/bin/sqlite3', ['-readonly', dbPath], { input: script });
    if (result.code !== 0) throw new Error(`sqlite3 failed: ${result.stderr}`);
    const real = /Run Time: real ([\d.]+)/.exec(result.stdout);
    if (!real) throw new Error(`no timer in sqlite3 output: ${result.stdout}`);
    if (Number(result.stdout.split('\n')[0]) !== skus * locations) throw new Error(`unexpected join count: ${result.stdout}`);
    joins.push(Number(real[1]) * 1000);
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`levels: ${(skus * locations).toLocaleString('en-US')} (${skus.toLocaleString('en-US')} SKUs × ${locations} locations), ${drifting.toLocaleString('en-US')} drifting`);
console.log(`build snapshot db: ${s(buildMs)}`);
console.log(`computeDiff (in process):          best of ${runs} ${s(best(inProcess))}  [${inProcess.map(s).join(', ')}]`);
console.log(`invrecon diff --format json (CLI): best of 2 ${s(best(cliRuns))}, peak RSS ${cliRss.toFixed(0)} MB`);
if (joins.length) {
  console.log(`sqlite3 bare FULL OUTER JOIN:      best of ${runs} ${s(best(joins))}`);
  console.log(`ratio computeDiff / join: ${(best(inProcess) / best(joins)).toFixed(2)}×; CLI / join: ${(best(cliRuns) / best(joins)).toFixed(2)}× (target ≤ 2×)`);
} else console.log('sqlite3 not installed (apt-get install sqlite3): no join comparison');
