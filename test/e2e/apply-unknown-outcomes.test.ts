import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { pullAndPlan, setsPerLevel } from '../helpers/apply.js';
import { binPath } from '../helpers/cli.js';
import { TEST_TOKEN, generateShop, generatedFiles, openShopWorkspace } from '../helpers/shop.js';

describe('apply when Shopify forgets idempotency keys (unknown outcomes)', () => {
  it('lost answers with keys forgotten at once: every level ends at its target or is reported unresolved where it is; none is moved twice', async () => {
    const generated = generateShop(1500, 2, 31);
    const shop = await openShopWorkspace({ seed: generated.seed, files: generatedFiles(generated), emulator: { faults: { seed: 9 } } });
    try {
      const planned = await pullAndPlan(shop);
      // Answers lost after the mutation ran, keys forgotten at once: every retry runs the mutation again.
      shop.emulator.state.setFaults({ idempotencyTtlS: 0, dropRate: 0.4, latencyMs: 20 });
      const result = await shop.cli(['apply', 'plan.json', '--commit', '--format', 'json']);
      shop.emulator.state.setFaults({ dropRate: 0, latencyMs: 0 });
      assert.ok(result.code === 0 || result.code === 3, result.stderr);
      const json = JSON.parse(result.stdout);
      assert.ok(shop.emulator.state.counters.faults.drops > 2, 'answers were lost');
      assert.ok(json.confirmed > 0, 'rows applied by a call whose answer was lost are confirmed by a re-read, not carried forward');

      const unresolved = new Map(
        (json.unresolvedRows as { sku: string; locationName: string; current: number }[]).map((r) => [`${r.sku} ${r.locationName}`, r.current]),
      );
      for (const change of planned) {
        const now = shop.emulator.state.level(change.inventoryItemId, change.locationId)!.available;
        const reported = unresolved.get(`${change.sku} ${change.locationName}`);
        if (reported === undefined) assert.equal(now, change.to, `${change.sku} at ${change.locationName}: planned ${change.from} → ${change.to}`);
        else assert.equal(now, reported, `${change.sku} at ${change.locationName}: reported unresolved at ${reported}`);
      }
      const sets = setsPerLevel(shop);
      assert.ok(
        [...sets.values()].every((n) => n === 1),
        'a level was moved twice',
      );
      assert.equal(json.applied + json.skipped + json.conflicts + json.unresolved + json.failed, planned.length);
      assert.equal(result.code, json.unresolved + json.conflicts + json.failed > 0 ? 3 : 0);

      // The audit log tells the confirmed changes apart, and records no lost mutation as ok.
      const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'), { readonly: true });
      const confirmed = db.prepare("SELECT COUNT(*) FROM audit_changes WHERE outcome = 'confirmed'").pluck().get() as number;
      const lost = db
        .prepare("SELECT COUNT(*) FROM audit_calls WHERE operation = 'InventorySetQuantities' AND outcome LIKE '%outcome unknown%'")
        .pluck()
        .get() as number;
      const okMiss = db.prepare("SELECT COUNT(*) FROM audit_calls WHERE operation = 'InventorySetQuantities' AND outcome = 'ok'").pluck().get() as number;
      db.close();
      assert.equal(confirmed, json.confirmed);
      assert.ok(lost > 0);
      assert.equal(okMiss, 0);
    } finally {
      await shop.close();
    }
  });

  it('kill -9 mid-apply, then a resume after Shopify forgot the keys: every level at its target, none moved twice', async () => {
    const generated = generateShop(2500, 1, 41);
    const shop = await openShopWorkspace({ seed: generated.seed, files: generatedFiles(generated), emulator: { faults: { seed: 3 } } });
    try {
      const planned = await pullAndPlan(shop);
      shop.emulator.state.setFaults({ latencyMs: 300 });
      const from = shop.emulator.state.counters.requests;
      const killed = await new Promise<string | null>((resolve) => {
        const child = spawn(process.execPath, [binPath, 'apply', 'plan.json', '--commit'], {
          cwd: shop.dir,
          env: { ...process.env, SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url, NO_COLOR: '1' },
          stdio: 'ignore',
        });
        // Killed once several calls are on their way: their mutations run, their answers never arrive.
        const poll = setInterval(() => shop.emulator.state.counters.requests - from >= 6 && child.kill('SIGKILL'), 5);
        child.on('close', (_code, signal) => {
          clearInterval(poll);
          resolve(signal);
        });
      });
      assert.equal(killed, 'SIGKILL');
      // Let the killed run's calls finish inside the emulator, then forget every key.
      await new Promise((resolve) => setTimeout(resolve, 500));
      shop.emulator.state.setFaults({ latencyMs: 0, idempotencyTtlS: 0 });
      const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'), { readonly: true });
      const open = db.prepare("SELECT COUNT(*) FROM apply_batches WHERE status = 'open'").pluck().get() as number;
      db.close();
      assert.ok(open > 1, `several attempts left open (${open})`);

      const resumed = await shop.cli(['apply', 'plan.json', '--commit', '--format', 'json']);
      assert.equal(resumed.code, 0, resumed.stderr);
      const json = JSON.parse(resumed.stdout);
      assert.equal(json.resumed, true);
      assert.ok(json.confirmed > 0, 'the killed run’s writes were confirmed by a re-read');
      assert.deepEqual(json.carriedRows, [], 'nothing of our own was carried forward as a sale');
      for (const change of planned) {
        assert.equal(
          shop.emulator.state.level(change.inventoryItemId, change.locationId)!.available,
          change.to,
          `${change.sku}: planned ${change.from} → ${change.to}`,
        );
      }
      const sets = setsPerLevel(shop);
      assert.equal(sets.size, planned.length);
      assert.ok(
        [...sets.values()].every((n) => n === 1),
        'a level was moved twice',
      );
    } finally {
      await shop.close();
    }
  });
});
