// sync --commit of a first sync where every level differs (default 100,000 × 10 = 1,000,000 changes)
// against the emulator at Standard-plan limits (bucket 2,000 points, 100 points/s) with 500 ms added to
// every request. Each phase's time against its floor: pull erp, pull shopify --bulk and plan each run
// alone beforehand; apply's floor is the rate limit's bound, (Σ cost of the calls − bucket) ÷ restore
// rate. Target: the whole sync within 1.2 × the sum of the floors. Also each phase's peak memory, as the
// run records it (status shows the same).
// Usage: npx tsx bench/sync-large.ts [100000x10] [latencyMs=500]
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { limitArgs, mb, openLargeShop, secs } from './large-shop.js';

const [items, locations] = (process.argv[2] ?? '100000x10').split('x').map(Number) as [number, number];
const latencyMs = Number(process.argv[3] ?? 500);
const bucket = { maximumAvailable: 2000, restoreRate: 100 };
const shop = await openLargeShop(`sync-large-${items}x${locations}`, items, locations, limitArgs(latencyMs, bucket));
try {
  // The floors: each of the first three phases run alone, as a user would.
  const erp = await shop.cli(['pull', 'erp']);
  const bulk = await shop.cli(['pull', 'shopify', '--bulk']);
  const plan = await shop.cli(['plan', '--out', 'floor-plan.json']);
  console.log(
    `floors alone: pull erp ${secs(erp.wallMs)} (${mb(erp)}), pull shopify --bulk ${secs(bulk.wallMs)} (${mb(bulk)}), plan ${secs(plan.wallMs)} (${mb(plan)})`,
  );

  const sync = await shop.cli(['sync', '--commit', '--format', 'json'], [0]);
  const run = JSON.parse(sync.stdout) as {
    runId: number;
    applied: number;
    conflicts: number;
    failed: number;
    phases: Record<string, number>;
    phasePeakRssMb?: Record<string, number>;
    durationMs: number;
  };
  const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'), { readonly: true });
  const calls = db
    .prepare(
      "SELECT COUNT(*) AS n, SUM(cost) AS cost FROM audit_calls WHERE operation = 'InventorySetQuantities' AND cost IS NOT NULL AND at >= (SELECT started_at FROM runs WHERE id = ?)",
    )
    .get(run.runId) as { n: number; cost: number };
  db.close();
  const applyFloor = (Math.max(0, calls.cost - bucket.maximumAvailable) / bucket.restoreRate) * 1000;
  const floors: Record<string, number> = { pullErp: erp.wallMs, pullShopify: bulk.wallMs, plan: plan.wallMs, apply: applyFloor };
  const floorSum = Object.values(floors).reduce((a, b) => a + b, 0);
  console.log(
    `sync --commit: applied ${run.applied.toLocaleString('en-US')}, conflicts ${run.conflicts}, failed ${run.failed}; ${calls.n} calls, ${calls.cost} points`,
  );
  for (const phase of ['pullErp', 'pullShopify', 'plan', 'apply']) {
    const took = run.phases[phase] ?? 0;
    console.log(
      `  ${phase.padEnd(12)} ${secs(took).padStart(8)}  floor ${secs(floors[phase]!).padStart(8)}  ×${(took / floors[phase]!).toFixed(2)}  peak RSS ${run.phasePeakRssMb?.[phase] ?? '?'} MB`,
    );
  }
  const ratio = sync.wallMs / floorSum;
  console.log(
    `whole sync ${secs(sync.wallMs)} (process start to exit; peak RSS ${mb(sync)}) vs sum of floors ${secs(floorSum)}: ×${ratio.toFixed(2)} (target ≤ 1.2)${ratio > 1.2 ? '  OVER' : ''}`,
  );
  const status = await shop.cli(['status']);
  console.log(status.stdout.split('\n').find((line) => line.startsWith('Phases of sync')) ?? '(status shows no phases line)');
} finally {
  shop.close();
}
