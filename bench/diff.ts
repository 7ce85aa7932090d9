// Times the reconcile diff over SKUS × LOCATIONS levels (default 100,000 × 10 = 1,000,000, 1% drifting)
// against a bare FULL OUTER JOIN of the two level tables in the sqlite3 CLI, on the same data.
// Usage: npx tsx bench/diff.ts [skus=100000] [locations=10]
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { computeDiff } from '../src/reconcile/diff.js';
import { openDb } from '../src/store/db.js';
import { measure } from '../test/helpers/measure.js';
import { buildSnapshotDb, writeSnapshotDbConfig } from './snapshot-db.js';

const skus = Number(process.argv[2] ?? 100_000);
const locations = Number(process.argv[3] ?? 10);
const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'bench', 'out', `diff-${skus}x${locations}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const dbPath = join(out, '.invrecon', 'snapshot.db');

// ---- Build the snapshot database directly: one ERP warehouse per Shopify location, 1% drifting. ----
const buildMs = buildSnapshotDb(dbPath, skus, locations, 100, { joinTables: true });

const config = writeSnapshotDbConfig(join(out, 'invrecon.config.json'), locations);
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
    const script = ['.timer on', 'SELECT count(*) FROM bench_erp e FULL OUTER JOIN bench_shop s ON s.sku = e.sku AND s.location_id = e.location_id;'].join(
      '\n',
    );
    const result = await measure('/usr/bin/sqlite3', ['-readonly', dbPath], { input: script });
    if (result.code !== 0) throw new Error(`sqlite3 failed: ${result.stderr}`);
    const real = /Run Time: real ([\d.]+)/.exec(result.stdout);
    if (!real) throw new Error(`no timer in sqlite3 output: ${result.stdout}`);
    if (Number(result.stdout.split('\n')[0]) !== skus * locations) throw new Error(`unexpected join count: ${result.stdout}`);
    joins.push(Number(real[1]) * 1000);
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(
  `levels: ${(skus * locations).toLocaleString('en-US')} (${skus.toLocaleString('en-US')} SKUs × ${locations} locations), ${drifting.toLocaleString('en-US')} drifting`,
);
console.log(`build snapshot db: ${s(buildMs)}`);
console.log(`computeDiff (in process):          best of ${runs} ${s(best(inProcess))}  [${inProcess.map(s).join(', ')}]`);
console.log(`invrecon diff --format json (CLI): best of 2 ${s(best(cliRuns))}, peak RSS ${cliRss.toFixed(0)} MB`);
if (joins.length) {
  console.log(`sqlite3 bare FULL OUTER JOIN:      best of ${runs} ${s(best(joins))}`);
  console.log(
    `ratio computeDiff / join: ${(best(inProcess) / best(joins)).toFixed(2)}×; CLI / join: ${(best(cliRuns) / best(joins)).toFixed(2)}× (target ≤ 2×)`,
  );
} else console.log('sqlite3 not installed (apt-get install sqlite3): no join comparison');
