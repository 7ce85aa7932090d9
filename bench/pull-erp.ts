// Times `invrecon pull erp` on a generated N-row CSV against sqlite3's `.import` of the same file
// into an equivalent table. Usage: npx tsx bench/pull-erp.ts [rows=1000000]
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeErpCsv } from '../test/helpers/generate.js';
import { measure } from '../test/helpers/measure.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'bench', 'out', `pull-erp-${rows}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const csv = join(out, 'erp.csv');
await writeErpCsv(csv, rows);
const warehouses = Array.from({ length: 10 }, (_, i) => `WH-${String(i).padStart(2, '0')}`);
writeFileSync(
  join(out, 'invrecon.config.json'),
  JSON.stringify({ shopify: { shop: 'bench.myshopify.com' }, erp: { csv: { path: 'erp.csv' } }, locations: [{ warehouses, shopifyLocation: 'Main' }] }),
);

const runs = 3;
const pulls = [];
for (let i = 0; i < runs; i++) {
  const result = await measure(process.execPath, [join(root, 'bin', 'invrecon.js'), 'pull', 'erp', '--format', 'json'], { cwd: out });
  if (result.code !== 0) throw new Error(`pull erp failed: ${result.stderr}`);
  pulls.push(result);
}

const imports = [];
if (existsSync('/usr/bin/sqlite3')) {
  for (let i = 0; i < runs; i++) {
    const db = join(out, `import-${i}.db`);
    const script = [
      'PRAGMA journal_mode = WAL;',
      'PRAGMA synchronous = NORMAL;',
      'CREATE TABLE erp_levels (sku TEXT NOT NULL, warehouse TEXT NOT NULL, on_hand INTEGER NOT NULL, reserved INTEGER, incoming INTEGER, safety_stock INTEGER, category TEXT, PRIMARY KEY (sku, warehouse)) WITHOUT ROWID;',
      '.mode csv',
      `.import --skip 1 ${csv} erp_levels`,
    ].join('\n');
    const result = await measure('/usr/bin/sqlite3', [db], { input: script });
    if (result.code !== 0) throw new Error(`sqlite3 .import failed: ${result.stderr}`);
    imports.push(result);
  }
}

const best = (list: { wallMs: number }[]) => Math.min(...list.map((r) => r.wallMs));
const pullMs = best(pulls);
const peak = Math.max(...pulls.map((r) => r.peakRssMb ?? 0));
console.log(`rows: ${rows.toLocaleString('en-US')}`);
console.log(`invrecon pull erp: best of ${runs} ${(pullMs / 1000).toFixed(2)} s, peak RSS ${peak.toFixed(0)} MB (target ≤ 200 MB)`);
if (imports.length) {
  const importMs = best(imports);
  console.log(`sqlite3 .import:   best of ${runs} ${(importMs / 1000).toFixed(2)} s`);
  console.log(`ratio: ${(pullMs / importMs).toFixed(2)}× (target ≤ 1.5×)`);
} else console.log('sqlite3 not installed (apt-get install sqlite3): no .import comparison');
