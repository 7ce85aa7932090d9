// invrecon watch under a steady stream of ERP events against the emulator (100 ms per call, Standard-plan
// bucket: 2000 points, 100/s restore). Reports the latency from event accepted (202) to Shopify write
// confirmed (p50/p95/p99, per SKU write: the oldest event a write carries), Shopify calls per event, and
// the watch process's memory over the run.
// Usage: npx tsx bench/watch.ts [eventsPerSecond=100] [seconds=60] [skus=2000]
import { readFileSync } from 'node:fs';
import { percentile } from '../src/ops/watch/metrics.js';
import { rng } from '../test/helpers/generate.js';
import { TEST_TOKEN, generateShop, generatedFiles, openShopWorkspace } from '../test/helpers/shop.js';
import { driveEvents, freePort, settled, spawnWatch, type ErpRowBody } from '../test/e2e/watch-helpers.js';

const rate = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 60);
const skus = Number(process.argv[4] ?? 2000);

const generated = generateShop(skus, 2, 5);
const shop = await openShopWorkspace({
  seed: generated.seed,
  files: generatedFiles(generated),
  emulator: { bucket: { maximumAvailable: 2000, restoreRate: 100 } },
});
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
try {
  for (const args of [
    ['sync', '--commit'],
    ['pull', 'shopify', '--bulk'],
  ]) {
    const result = await shop.cli(args);
    if (result.code !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
  }
  const rows: ErpRowBody[] = generated.erpCsv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [sku, warehouse, onHand] = line.split(',');
      return { sku: sku!, warehouse: warehouse!, on_hand: Number(onHand), reserved: 0 };
    });
  shop.emulator.state.setFaults({ latencyMs: 100 });
  const watch = await spawnWatch(shop.dir, { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url }, [
    '--port',
    String(await freePort()),
    '--log-format',
    'json',
  ]);
  const pid = watch.child.pid!;
  const memory: number[] = [];
  const sampler = setInterval(() => memory.push(rssKb(pid)), 5000);
  const requestsBefore = shop.emulator.state.counters.requests;
  const random = rng(9);
  const started = performance.now();
  const driven = await driveEvents({
    url: () => watch.url,
    rate,
    seconds,
    next: () => {
      const row = rows[Math.floor(random() * rows.length)]!;
      return { ...row, on_hand: Math.floor(random() * 100), reserved: Math.floor(random() * 5) };
    },
  });
  const drained = await settled(watch.url, 30_000);
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sampler);
  memory.push(rssKb(pid));
  const calls = shop.emulator.state.counters.requests - requestsBefore;
  await watch.stop();

  const latencies: number[] = [];
  let writes = 0;
  let levels = 0;
  let stale = 0;
  for (const line of watch.stderr().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { event?: string; latencyMs?: number[]; levels?: number };
    if (entry.event === 'write') {
      writes++;
      levels += entry.levels ?? 0;
      latencies.push(...(entry.latencyMs ?? []));
    }
    if (entry.event === 'stale') stale++;
  }
  latencies.sort((a, b) => a - b);
  const ms = (p: number) => `${percentile(latencies, p)} ms`;
  console.log(`events: ${driven.sent} one-row events at ${rate}/s over ${seconds} s (${skus} SKUs × 2 locations), emulator latency 100 ms per call`);
  console.log(`drained: ${drained ? 'yes' : 'NO'}, ${elapsed.toFixed(1)} s from the first event to an empty queue`);
  console.log(`writes: ${writes} calls setting ${levels} levels; ${stale} stale rows re-read; SKU writes measured: ${latencies.length}`);
  console.log(
    `latency event accepted → Shopify write confirmed: p50 ${ms(50)}, p95 ${ms(95)}, p99 ${ms(99)}, max ${latencies.at(-1)} ms (target p95 ≤ 1000 ms)`,
  );
  console.log(`Shopify calls: ${calls} (${(calls / driven.sent).toFixed(3)} per event), throttled answers ${shop.emulator.state.counters.throttled}`);
  console.log(`watch RSS every 5 s (MB): ${memory.map((kb) => (kb / 1024).toFixed(0)).join(' ')}`);
} finally {
  await shop.close();
}
