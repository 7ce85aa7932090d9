// Issue 16: a large first sync under a memory cap. A plan of many changes is made, shown, applied with
// a kill -9 in the middle and resumed, each command run with `node --max-old-space-size=256`; every
// level ends at its target, written once. The suite runs it at 30,000 changes to stay fast;
// INVRECON_E2E_LARGE_CHANGES=300000 runs the size (about 2 minutes).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readPlan } from '../../src/plan/file.js';
import { binPath, TEST_TOKEN, type CliResult } from '../helpers/cli.js';
import { generatedFiles, generateShop, openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';

const CHANGES = Number(process.env.INVRECON_E2E_LARGE_CHANGES ?? 30_000);
const LOCATIONS = 10;
const CAP = ['--max-old-space-size=256'];

/** bin/invrecon.js under the memory cap; `killWhen` (polled) kills it with SIGKILL. */
function capped(shop: ShopWorkspace, args: string[], killWhen?: () => boolean): Promise<CliResult & { signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CAP, binPath, ...args], {
      cwd: shop.dir,
      env: { ...process.env, SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const poll = killWhen && setInterval(() => killWhen() && child.kill('SIGKILL'), 5);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe(`a first sync of ${CHANGES.toLocaleString('en-US')} changes under a 256 MB heap`, () => {
  it('plan, plan show, apply --commit killed with -9 mid-way and resumed: every level at its target, written once', async () => {
    // generateShop's ERP differs from Shopify on ~91% of levels.
    const generated = generateShop(Math.ceil(CHANGES / LOCATIONS / 0.9), LOCATIONS, 16);
    generated.config.guards = { maxChanges: 10_000_000, maxZeroedShare: 1, maxRowDrop: 0.5 };
    const shop = await openShopWorkspace({
      seed: generated.seed,
      files: generatedFiles(generated),
      emulator: { bucket: { maximumAvailable: 1e9, restoreRate: 1e9 } },
    });
    try {
      for (const args of [
        ['pull', 'erp'],
        ['pull', 'shopify', '--bulk'],
      ]) {
        const pulled = await capped(shop, args);
        assert.equal(pulled.code, 0, pulled.stderr);
      }
      const planned = await capped(shop, ['plan', '--out', 'plan.json', '--format', 'json']);
      assert.equal(planned.code, 0, planned.stderr);
      const changes = (JSON.parse(planned.stdout) as { summary: { changes: number } }).summary.changes;
      assert.ok(changes > CHANGES * 0.95, `expected about ${CHANGES} changes, got ${changes}`);
      assert.ok(statSync(join(shop.dir, 'plan.json')).size / changes <= 150, 'at most 150 bytes a change');

      const shown = await capped(shop, ['plan', 'show', 'plan.json', '--location', 'Location 3', '--sku', 'SKU-000*', '--limit', '5']);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(shown.stdout.match(/^ {2}~ SKU-000\d\d /gm)?.length, 5, shown.stdout);
      assert.match(shown.stdout, /… and [\d,]+ more changes? at Location 3/);
      assert.match(shown.stdout, new RegExp(`^Plan: ${changes.toLocaleString('en-US')} changes`, 'm'));

      const dry = await capped(shop, ['apply', 'plan.json']);
      assert.equal(dry.code, 0, dry.stderr);
      assert.equal(shop.emulator.state.history.length, 0, 'a dry run sends nothing');

      // Killed once about a third of the levels are written. A few calls at a time: the bucket here takes every
      // batch at once, and the emulator (in this process) would answer them all before the poll could kill.
      const killed = await capped(shop, ['apply', 'plan.json', '--commit', '--max-in-flight', '4'], () => shop.emulator.state.history.length > changes / 3);
      assert.equal(killed.signal, 'SIGKILL', `the apply finished before it was killed: ${killed.stderr}`);
      const writtenBeforeResume = shop.emulator.state.history.length;
      assert.ok(writtenBeforeResume < changes, 'killed before the end');
      const resumed = await capped(shop, ['apply', 'plan.json', '--commit', '--format', 'json']);
      assert.equal(resumed.code, 0, resumed.stderr);
      const result = JSON.parse(resumed.stdout) as { resumed: boolean; conflicts: number; failed: number };
      assert.deepEqual([result.resumed, result.conflicts, result.failed], [true, 0, 0]);

      const writes = new Map<string, number>();
      for (const entry of shop.emulator.state.history) {
        if (entry.name !== 'available' || entry.kind === 'sale') continue;
        const key = `${entry.inventoryItemId} ${entry.locationId}`;
        writes.set(key, (writes.get(key) ?? 0) + 1);
      }
      const plan = readPlan(join(shop.dir, 'plan.json'));
      for (const change of plan.changes) {
        assert.equal(shop.emulator.state.level(change.inventoryItemId, change.locationId)?.available, change.to, `${change.sku} at ${change.locationName}`);
        assert.equal(writes.get(`${change.inventoryItemId} ${change.locationId}`), 1, `${change.sku} at ${change.locationName} written once`);
      }
      assert.equal(writes.size, plan.changes.length, 'no level outside the plan was written');
    } finally {
      await shop.close();
    }
  });
});
