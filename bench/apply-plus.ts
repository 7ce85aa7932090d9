// apply --commit of a million changes at Plus limits (bucket 20,000 points, 1,000/s) with 500 ms per call:
// the plan is large enough to drain the bucket, so the rate-limit bound is (Σ cost − 20,000) ÷ 1,000 ≈ 20 s.
// The shop is bench/large-shop.ts's (the emulator in its own process, every level drifting). Reports the
// ratio to the bound, peak RSS, THROTTLED answers, retries, calls in flight and the load average.
// Usage: npx tsx bench/apply-plus.ts [100000x10] [latencyMs=500] [-- apply options, e.g. --max-in-flight 192]
// PROFILE_DIR=dir: a CPU profile of the apply there.
import { join } from 'node:path';
import { loadavg } from 'node:os';
import Database from 'better-sqlite3';
import { readCpuMs } from '../test/helpers/measure.js';
import { limitArgs, mb, openLargeShop, secs } from './large-shop.js';

const [items, locations] = (process.argv[2] ?? '100000x10').split('x').map(Number) as [number, number];
const latencyMs = Number(process.argv[3] ?? 500);
const applyOptions = process.argv.includes('--') ? process.argv.slice(process.argv.indexOf('--') + 1) : [];
const bucket = { maximumAvailable: 20_000, restoreRate: 1000 };
// graphql-js's development checks (instanceof on every value) cost the emulator ~10% of its CPU, and at a
// million changes the emulator's CPU is what bounds the run on a small machine: measure without them.
process.env.NODE_ENV ??= 'production';
const shop = await openLargeShop(`apply-plus-${items}x${locations}`, items, locations, limitArgs(latencyMs, bucket));
try {
  for (const args of [
    ['pull', 'erp'],
    ['pull', 'shopify', '--bulk'],
    ['plan', '--out', 'plan.json'],
  ])
    await shop.cli(args);
  // The bound assumes a full bucket at the start: let the pull's spending refill.
  await new Promise((resolve) => setTimeout(resolve, (bucket.maximumAvailable / bucket.restoreRate) * 1000 + 500));
  const load = loadavg()[0]!;
  const emulatorCpuBefore = readCpuMs(shop.emulator.pid!);
  const startedAt = Date.now();
  const applied = await shop.cli(
    ['apply', 'plan.json', '--commit', '--format', 'json', ...applyOptions],
    [0],
    process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`] : [],
  );
  const emulatorCpuMs = (readCpuMs(shop.emulator.pid!) ?? NaN) - (emulatorCpuBefore ?? NaN);
  const result = JSON.parse(applied.stdout) as { applied: number; calls: number; retries: number; peakInFlight: number };
  const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'), { readonly: true });
  const mutations = db
    .prepare("SELECT COUNT(*) AS calls, SUM(cost) AS points FROM audit_calls WHERE operation = 'InventorySetQuantities' AND outcome = 'applied'")
    .get() as { calls: number; points: number };
  const throttled = db.prepare("SELECT COUNT(*) FROM audit_calls WHERE outcome LIKE 'throttled%'").pluck().get() as number;
  // When the writes went and came back, from the process start: what the start, the claim and the release cost.
  const span = db
    .prepare(
      "SELECT MIN(julianday(at) * 86400000 - latency_ms) AS firstSent, MAX(julianday(at) * 86400000) AS lastAnswered FROM audit_calls WHERE operation = 'InventorySetQuantities'",
    )
    .get() as { firstSent: number; lastAnswered: number };
  const epochMs = (julianMs: number) => julianMs - 2440587.5 * 86400000;
  db.close();
  const bound = Math.max(0, mutations.points - bucket.maximumAvailable) / bucket.restoreRate;
  const seconds = applied.wallMs / 1000;
  console.log(
    `Plus (bucket 20,000, 1,000/s), ${latencyMs} ms per call: applied ${result.applied.toLocaleString('en-US')} in ${mutations.calls} calls (${mutations.points} points), ${throttled} THROTTLED, ${result.retries} retries, up to ${result.peakInFlight} in flight`,
  );
  console.log(
    `bound ${bound.toFixed(1)} s; apply ${secs(applied.wallMs)} (process start to exit) = ${(bound / seconds).toFixed(2)} of the bound (target ≥ 0.9), ${(result.applied / seconds).toFixed(0)} rows/s; peak RSS ${mb(applied)}; load average ${load.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end, on 2 cores`,
  );
  // On a small machine the two processes share the cores: what each needs says which one bounds the run.
  console.log(
    `timeline: first write sent at ${((epochMs(span.firstSent) - startedAt) / 1000).toFixed(1)} s, last answered at ${((epochMs(span.lastAnswered) - startedAt) / 1000).toFixed(1)} s, exit at ${seconds.toFixed(1)} s`,
  );
  console.log(`CPU during the apply: apply ${secs(applied.cpuMs ?? NaN)}, emulator ${secs(emulatorCpuMs)} (user + system)`);
} finally {
  shop.close();
}
