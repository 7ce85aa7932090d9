import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Seed } from '../../src/emulator/index.js';
import { assertOneLineError } from '../helpers/errors.js';
import { openShopWorkspace } from '../helpers/shop.js';

const L1 = 'gid://shopify/Location/1';
const item = (n: number) => `gid://shopify/InventoryItem/${n}`;
const seed: Seed = {
  locations: [{ id: L1, name: 'Main' }],
  items: [
    { sku: 'A', inventoryItemId: item(1), levels: [{ locationId: L1, available: 2 }] },
    { sku: 'B', inventoryItemId: item(2), levels: [{ locationId: L1, available: 3 }] },
  ],
};
const configOf = (safetyStock: number) =>
  JSON.stringify({
    shopify: { shop: 'x.myshopify.com' },
    erp: { csv: { path: 'erp.csv' } },
    locations: [{ warehouses: ['W'], shopifyLocation: 'Main' }],
    safetyStock: { default: safetyStock },
  });

describe('plans this database made are trusted without recomputing them (issue 11)', () => {
  it('a plan made here applies without the side file a recomputation writes; after a config change it is recomputed and refused', async () => {
    const shop = await openShopWorkspace({ seed, files: { 'invrecon.config.json': configOf(0), 'erp.csv': 'sku,warehouse,on_hand\nA,W,5\nB,W,6\n' } });
    try {
      for (const args of [
        ['pull', 'erp'],
        ['pull', 'shopify'],
        ['plan', '--out', 'plan.json'],
      ])
        assert.equal((await shop.cli(args)).code, 0);
      // Recomputing writes the plan again into a folder under TMPDIR: a TMPDIR that is a file makes that fail.
      const notADir = join(shop.dir, 'not-a-dir');
      writeFileSync(notADir, '');
      const trusted = await shop.cli(['apply', 'plan.json', '--format', 'json'], { TMPDIR: notADir });
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.equal((JSON.parse(trusted.stdout) as { plannedRows: number }).plannedRows, 2);

      // Another config: the fingerprint differs, the plan is recomputed and differs (safety stock 1 gives 4 and 5).
      writeFileSync(join(shop.dir, 'invrecon.config.json'), configOf(1));
      mkdirSync(join(shop.dir, 'tmp'));
      const changed = await shop.cli(['apply', 'plan.json', '--commit'], { TMPDIR: join(shop.dir, 'tmp') });
      assertOneLineError(changed, /the plan is not what "invrecon plan" gives for its baseline snapshots \(2 differences\)/);
      assert.equal(shop.emulator.state.level(item(1), L1)!.available, 2, 'nothing was sent');

      // The config it was made with again: trusted, applied.
      writeFileSync(join(shop.dir, 'invrecon.config.json'), configOf(0));
      const applied = await shop.cli(['apply', 'plan.json', '--commit'], { TMPDIR: notADir });
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal(shop.emulator.state.level(item(1), L1)!.available, 5);
      assert.equal(shop.emulator.state.level(item(2), L1)!.available, 6);
    } finally {
      await shop.close();
    }
  });

  it('a plan made here is recomputed, and refused, once the bundles file it was made with has changed', async () => {
    const bundled: Seed = { ...seed, items: [...seed.items, { sku: 'KIT', inventoryItemId: item(3), levels: [{ locationId: L1, available: 0 }] }] };
    const config = JSON.stringify({ ...JSON.parse(configOf(0)), bundles: { csv: 'bundles.csv' } });
    const shop = await openShopWorkspace({
      seed: bundled,
      files: {
        'invrecon.config.json': config,
        'erp.csv': 'sku,warehouse,on_hand\nA,W,5\nB,W,6\n',
        'bundles.csv': 'bundle_sku,component_sku,quantity\nKIT,A,1\n',
      },
    });
    try {
      for (const args of [
        ['pull', 'erp'],
        ['pull', 'shopify'],
        ['plan', '--out', 'plan.json'],
      ])
        assert.equal((await shop.cli(args)).code, 0);
      // KIT was planned as 5 (A alone); with B as a component too it is min(5, 6 / 2) = 3.
      writeFileSync(join(shop.dir, 'bundles.csv'), 'bundle_sku,component_sku,quantity\nKIT,A,1\nKIT,B,2\n');
      const changed = await shop.cli(['apply', 'plan.json', '--commit']);
      assertOneLineError(changed, /the plan is not what "invrecon plan" gives for its baseline snapshots \(1 difference\)/);
      assert.equal(shop.emulator.state.level(item(3), L1)!.available, 0, 'nothing was sent');
    } finally {
      await shop.close();
    }
  });
});
