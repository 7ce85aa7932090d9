// Apply of N changes against the emulator at Standard-plan limits (bucket 2000, restore 100/s).
// Reports rows/s as a fraction of the bound the bucket sets: rows per call × restore rate ÷ cost per call.
// Usage: npx tsx bench/apply.ts [changes=100000]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TEST_TOKEN, generateShop, generatedFiles, openShopWorkspace } from '../test/helpers/shop.js';

const target = Number(process.argv[2] ?? 100_000);
const restoreRate = 100;
// ERP quantities differ from Shopify's on ~91% of levels: generate enough items for `target` changes.
const generated = generateShop(Math.ceil(target / 0.9), 1, 3);
const shop = await openShopWorkspace({ seed: generated.seed, files: generatedFiles(generated), emulator: { bucket: { maximumAvailable: 2000, restoreRate } } });
try {
  for (const args of [['pull', 'erp'], ['pull', 'shopify', '--bulk'], ['plan', '--out', 'plan.json']]) {
    const result = await shop.cli(args);
    if (result.code !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
  }
  const changes = (JSON.parse(readFileSync(join(shop.dir, 'plan.json'), 'utf8')) as { changes: unknown[] }).changes.length;
  const throttledBefore = shop.emulator.state.counters.throttled;
  const started = performance.now();
  const result = await shop.cli(['apply', 'plan.json', '--commit', '--format', 'json'], { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN });
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0) throw new Error(`apply: ${result.stderr}`);
  const json = JSON.parse(result.stdout);
  const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'), { readonly: true });
  const calls = db.prepare("SELECT at, cost FROM audit_calls WHERE operation = 'InventorySetQuantities' AND outcome = 'ok' ORDER BY id").all() as { at: string; cost: number }[];
  db.close();
  const costPerCall = calls.reduce((n, c) => n + c.cost, 0) / calls.length;
  const rowsPerCall = changes / calls.length;
  const bound = (rowsPerCall * restoreRate) / costPerCall;
  console.log(`changes: ${changes.toLocaleString('en-US')} in ${calls.length} calls (${rowsPerCall.toFixed(0)} rows/call, ${costPerCall.toFixed(1)} points/call)`);
  console.log(`applied ${json.applied}, conflicts ${json.conflicts}, retries ${json.retries}, throttled answers ${shop.emulator.state.counters.throttled - throttledBefore}`);
  console.log(`bound: ${bound.toFixed(0)} rows/s (rows/call × ${restoreRate}/s ÷ cost/call)`);
  console.log(`apply: ${(changes / seconds).toFixed(0)} rows/s in ${seconds.toFixed(1)} s (process start to exit) = ${((changes / seconds) / bound).toFixed(2)} of the bound (target ≥ 0.9)`);
} finally {
  await shop.close();
}
