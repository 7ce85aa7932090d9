// `pull shopify` with no flag on a generated 3,000 items × 4 locations shop at Standard limits (bucket
// 2,000, 100 points/s): the default mode chooses paged or bulk by expected time.
// Usage: npx tsx bench/pull-shopify-auto.ts [items=3000] [locations=4]
import { generateShop, generatedFiles, openShopWorkspace } from '../test/helpers/shop.js';

const items = Number(process.argv[2] ?? 3000);
const locations = Number(process.argv[3] ?? 4);
const generated = generateShop(items, locations, 5);
const shop = await openShopWorkspace({
  seed: generated.seed,
  files: generatedFiles(generated),
  emulator: { bucket: { maximumAvailable: 2000, restoreRate: 100 } },
});
try {
  const started = performance.now();
  const result = await shop.cli(['pull', 'shopify', '--format', 'json']);
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0) throw new Error(result.stderr);
  const json = JSON.parse(result.stdout) as { mode: string; modeReason: string; rows: number; calls?: number };
  console.log(
    `pull shopify (no flag), ${items}x${locations} at Standard limits: ${seconds.toFixed(1)} s (process start to exit), ${json.mode}, ${json.rows} levels`,
  );
  console.log(`why: ${json.modeReason}`);
} finally {
  await shop.close();
}
