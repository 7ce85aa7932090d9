import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { levelKey, pullAndPlan, readPlanChanges, setsPerLevel } from '../helpers/apply.js';
import { binPath } from '../helpers/cli.js';
import { rng } from '../helpers/generate.js';
import { TEST_TOKEN, generateShop, generatedFiles, openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';

/**
 * Starts `apply plan.json --commit` and kills it with SIGKILL once the emulator has received `afterRequests`
 * more requests (so the kill lands mid-apply whatever the machine's load); resolves with its exit.
 */
function applyAndKill(shop: ShopWorkspace, afterRequests: number): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    const from = shop.emulator.state.counters.requests;
    const child = spawn(process.execPath, [binPath, 'apply', 'plan.json', '--commit'], {
      cwd: shop.dir,
      env: { ...process.env, SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url, NO_COLOR: '1' },
      stdio: 'ignore',
    });
    const poll = setInterval(() => {
      if (shop.emulator.state.counters.requests - from >= afterRequests) child.kill('SIGKILL');
    }, 5);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal });
    });
  });
}

describe('apply under concurrency', () => {
  it('preserves every sale made while it runs: final available = target − sales after the snapshot', async () => {
    const generated = generateShop(300, 2, 11);
    const shop = await openShopWorkspace({ seed: generated.seed, files: generatedFiles(generated), emulator: { faults: { seed: 5 } } });
    try {
      await pullAndPlan(shop);
      const planned = readPlanChanges(shop.dir);
      assert.ok(planned.length > 400, `expected most levels to drift, got ${planned.length}`);
      // Sales from the moment the snapshot was taken (none happened before: the stream starts now).
      const salesFrom = shop.emulator.state.history.length;
      // Each call of the apply waits 100 ms, so the sales stream keeps moving levels between the snapshot and each batch.
      shop.emulator.state.setFaults({ salesPerSecond: 40, latencyMs: 100 });
      const result = await shop.cli(['apply', 'plan.json', '--commit', '--format', 'json']);
      shop.emulator.state.setFaults({ salesPerSecond: 0, latencyMs: 0 });
      assert.ok(result.code === 0 || result.code === 3, result.stderr);
      const json = JSON.parse(result.stdout);

      const sales = new Map<string, number>();
      for (const entry of shop.emulator.state.history.slice(salesFrom)) {
        if (entry.kind === 'sale' && entry.name === 'available')
          sales.set(levelKey(entry.inventoryItemId, entry.locationId), (sales.get(levelKey(entry.inventoryItemId, entry.locationId)) ?? 0) - entry.delta);
      }
      // A level given up as a conflict was never written: it holds the snapshot's value less its sales.
      const conflicted = new Set((json.conflictRows as { sku: string; locationName: string }[]).map((r) => `${r.sku} ${r.locationName}`));
      let salesDuringApply = 0;
      for (const change of planned) {
        const sold = sales.get(levelKey(change.inventoryItemId, change.locationId)) ?? 0;
        salesDuringApply += sold;
        const now = shop.emulator.state.level(change.inventoryItemId, change.locationId)!.available;
        const expected = conflicted.has(`${change.sku} ${change.locationName}`) ? change.from - sold : Math.max(0, change.to - sold);
        assert.equal(now, expected, `${change.sku} at ${change.locationId}: from ${change.from}, to ${change.to}, sold ${sold}`);
      }
      assert.ok(json.conflicts <= planned.length / 100, `${json.conflicts} conflicts: the shrinking batches should get nearly every level through`);
      assert.ok(salesDuringApply > 20, `the sales stream should have hit planned levels (${salesDuringApply} units)`);
      assert.ok(json.applied + json.skipped + json.conflicts === planned.length);
    } finally {
      await shop.close();
    }
  });

  it('survives kill -9 at random points: the rerun finishes exactly, and no level is changed twice', async () => {
    const random = rng(2024);
    let mostOpen = 0;
    for (let trial = 0; trial < 3; trial++) {
      const generated = generateShop(2500, 1, 100 + trial);
      const shop = await openShopWorkspace({ seed: generated.seed, files: generatedFiles(generated), emulator: { faults: { seed: trial + 1 } } });
      try {
        const planned = await pullAndPlan(shop);
        // While applying: ~9 batches, several in flight, each call 400 ms, and some answers lost after the mutation ran.
        shop.emulator.state.setFaults({ latencyMs: 400, dropRate: 0.2 });
        let kills = 0;
        for (let round = 0; round < 4; round++) {
          const outcome = await applyAndKill(shop, 2 + Math.floor(random() * 8));
          if (outcome.signal !== 'SIGKILL') break;
          kills++;
          // Attempts the killed run left open (sent, answer not recorded): several batches were in flight.
          const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'), { readonly: true });
          const open = db.prepare("SELECT COUNT(*) FROM apply_batches WHERE status = 'open'").pluck().get() as number;
          db.close();
          mostOpen = Math.max(mostOpen, open);
        }
        assert.ok(kills > 0, 'at least one run was killed');
        const finished = await shop.cli(['apply', 'plan.json', '--commit', '--format', 'json']);
        assert.equal(finished.code, 0, finished.stderr);

        for (const change of planned) {
          assert.equal(shop.emulator.state.level(change.inventoryItemId, change.locationId)!.available, change.to, `trial ${trial}: ${change.sku}`);
        }
        // The emulator's own history: exactly one set of `available` per planned level.
        const sets = setsPerLevel(shop);
        const changedLevels = planned.filter((c) => c.to !== c.from);
        assert.equal(sets.size, changedLevels.length, `trial ${trial}: levels set`);
        assert.ok(
          [...sets.values()].every((n) => n === 1),
          `trial ${trial}: a level was set twice`,
        );
        // And the audit log: one recorded change per level.
        const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'), { readonly: true });
        const perLevel = db.prepare('SELECT COUNT(*) AS n FROM audit_changes GROUP BY inventory_item_id, location_id').pluck().all() as number[];
        db.close();
        assert.equal(perLevel.length, planned.length, `trial ${trial}: audited levels`);
        assert.ok(
          perLevel.every((n) => n === 1),
          `trial ${trial}: a level was audited twice`,
        );
      } finally {
        await shop.close();
      }
    }
    assert.ok(mostOpen > 1, `a kill should leave several attempts open (most: ${mostOpen})`);
  });
});
