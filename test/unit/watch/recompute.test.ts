import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Recomputer } from '../../../src/ops/watch/recompute.js';
import { acceptErpRows, leftOutLevels, seedFromSnapshots, storeReadLevels, type LiveLevel } from '../../../src/ops/watch/state.js';
import { closedStoreShop, ITEM, leftOutShop, LOC, workspace } from '../reconcile/helpers.js';

// The live recompute must give what `diff` gives on the same state: it runs the same code over a slice.
const view = (rows: { sku: string; locationId: string; target: number | null; observed: number | null; status: string; authority: string }[]) =>
  rows.map((r) => `${r.sku}@${r.locationId}: ${r.status} ${r.target}/${r.observed} (${r.authority})`).sort();

describe('watch recompute', () => {
  const setup = () => {
    const w = workspace();
    const config = w.config(
      {
        locations: [
          { warehouses: ['A', 'A2'], shopifyLocation: 'Main' },
          { warehouses: ['S'], shopifyLocation: 'Store', authority: 'hybrid' },
        ],
        authority: { byCategory: { pos: 'shopify' } },
        safetyStock: { default: 1, byLocation: { Store: 2 }, byCategory: { mugs: 3 }, bySku: { TEE: 0, KIT: 1 } },
      },
      'bundle_sku,component_sku,quantity\nKIT,TEE,1\nKIT,MUG,2\n',
    );
    w.erp([
      { sku: 'TEE', wh: 'A', onHand: 10, reserved: 2 },
      { sku: 'TEE', wh: 'A2', onHand: 5 },
      { sku: 'TEE', wh: 'S', onHand: 4, reserved: 1 },
      { sku: 'MUG', wh: 'A', onHand: 30, category: 'mugs' },
      { sku: 'MUG', wh: 'S', onHand: 9, category: 'mugs', safety: 0 },
      { sku: 'BAG', wh: 'S', onHand: 40, category: 'pos' },
      { sku: 'CAP', wh: 'A', onHand: 3, reserved: 5 },
    ]);
    const locations = [
      { id: LOC(1), name: 'Main' },
      { id: LOC(2), name: 'Store' },
    ];
    const items = [
      { id: ITEM(1), sku: 'TEE' },
      { id: ITEM(2), sku: 'MUG' },
      { id: ITEM(3), sku: 'KIT' },
      { id: ITEM(4), sku: 'BAG' },
      { id: ITEM(5), sku: 'CAP' },
    ];
    const levels = items.flatMap((item, i) => [
      { sku: item.sku, item: item.id, location: LOC(1), available: 5 + i },
      { sku: item.sku, item: item.id, location: LOC(2), available: 2 + i },
    ]);
    w.shopify({ locations, items, levels });
    w.base('TEE', LOC(2), 1, 2);
    seedFromSnapshots(w.db);
    return { w, config, locations, items, levels };
  };

  it('gives the rows diff gives for the same SKUs: pooling, safety precedence, bundles, authority, hybrid', () => {
    const { w, config } = setup();
    const recomputer = new Recomputer(w.db, config);
    try {
      const all = w.diff(config, { all: true, hybridOk: true }).rows;
      for (const skus of [['TEE'], ['MUG'], ['BAG', 'CAP'], ['TEE', 'MUG', 'KIT', 'BAG', 'CAP']]) {
        const affected = recomputer.affected(skus);
        const expected = all.filter((r) => affected.has(r.sku));
        assert.deepEqual(view(recomputer.compute(affected)), view(expected), `SKUs ${skus.join(', ')}`);
      }
    } finally {
      recomputer.close();
      w.close();
    }
  });

  it('a component makes its bundles part of the recompute, and an event moves both', () => {
    const { w, config } = setup();
    const recomputer = new Recomputer(w.db, config);
    try {
      assert.deepEqual([...recomputer.affected(['MUG'])].sort(), ['KIT', 'MUG']);
      assert.deepEqual([...recomputer.affected(['BAG'])], ['BAG']);
      const kitBefore = recomputer.compute(recomputer.affected(['MUG'])).find((r) => r.sku === 'KIT' && r.locationId === LOC(1))!.target;
      acceptErpRows(w.db, [{ sku: 'MUG', warehouse: 'A', onHand: 7, reserved: 0, incoming: 0, safetyStock: null, category: 'mugs' }], 'erp', '[]');
      const rows = recomputer.compute(recomputer.affected(['MUG']));
      // MUG at Main: 7 − 3 (byCategory) = 4; KIT = min(TEE 13, floor(4 / 2)) − 1 (bySku) = 1.
      assert.equal(rows.find((r) => r.sku === 'MUG' && r.locationId === LOC(1))!.target, 4);
      assert.equal(rows.find((r) => r.sku === 'KIT' && r.locationId === LOC(1))!.target, 1);
      assert.notEqual(kitBefore, 1);
      const dirty = w.db.prepare('SELECT sku FROM watch_dirty').pluck().all();
      assert.deepEqual(dirty, ['MUG']);
    } finally {
      recomputer.close();
      w.close();
    }
  });

  it('leaves out what diff leaves out where Shopify has no level: a closed store, an untracked item', () => {
    const w = workspace();
    const config = closedStoreShop(w);
    seedFromSnapshots(w.db);
    const recomputer = new Recomputer(w.db, config);
    try {
      const rows = recomputer.compute(recomputer.affected(['TEE', 'MUG', 'SVC', 'GIFT']));
      assert.deepEqual(view(rows), [
        `MUG@${LOC(1)}: ok 2/2 (erp)`,
        `SVC@${LOC(1)}: untracked 12/null (erp)`,
        `TEE@${LOC(1)}: change 10/5 (erp)`,
        `TEE@${LOC(2)}: inactive-location 9/null (erp)`,
      ]);
      assert.deepEqual(view(rows), view(w.diff(config, { all: true, hybridOk: true }).rows));
    } finally {
      recomputer.close();
      w.close();
    }
  });

  it('leaves out what diff leaves out: an untracked item, an inactive location', () => {
    const w = workspace();
    const config = leftOutShop(w);
    seedFromSnapshots(w.db);
    const recomputer = new Recomputer(w.db, config);
    try {
      const rows = recomputer.compute(recomputer.affected(['TEE', 'SVC']));
      assert.deepEqual(view(rows), [
        `SVC@${LOC(1)}: untracked 12/0 (erp)`,
        `SVC@${LOC(2)}: inactive-location 1/3 (erp)`,
        `TEE@${LOC(1)}: change 10/5 (erp)`,
        `TEE@${LOC(2)}: inactive-location 9/4 (erp)`,
      ]);
      assert.deepEqual(view(rows), view(w.diff(config, { all: true, hybridOk: true }).rows));
    } finally {
      recomputer.close();
      w.close();
    }
  });

  it('a re-read that finds the flags changed: stored, said, counted, and the recompute follows them', () => {
    const w = workspace();
    const config = leftOutShop(w);
    seedFromSnapshots(w.db);
    const recomputer = new Recomputer(w.db, config);
    // SVC@Main (untracked), TEE@Old Store and SVC@Old Store (inactive location).
    assert.deepEqual(leftOutLevels(w.db, config), { levels: 3, ofUntrackedItems: 1, atInactiveLocations: 2 });
    const level = (item: string, location: string, available: number): LiveLevel => ({
      inventoryItemId: item,
      locationId: location,
      available,
      onHand: available,
      committed: 0,
      reserved: 0,
      incoming: 0,
    });
    const read = [level(ITEM(2), LOC(1), 0), level(ITEM(2), LOC(2), 3)];
    try {
      // Shopify tracks SVC again and Old Store is active again.
      const back = storeReadLevels(w.db, [ITEM(2)], read, Date.now(), {
        items: [{ id: ITEM(2), tracked: true }],
        locations: [
          { id: LOC(1), isActive: true },
          { id: LOC(2), isActive: true },
        ],
      });
      assert.deepEqual(back, { untracked: [], trackedAgain: ['SVC'], deactivated: [], reactivated: ['Old Store'] });
      assert.deepEqual(leftOutLevels(w.db, config), { levels: 0, ofUntrackedItems: 0, atInactiveLocations: 0 });
      assert.deepEqual(view(recomputer.compute(recomputer.affected(['SVC']))), [`SVC@${LOC(1)}: change 12/0 (erp)`, `SVC@${LOC(2)}: change 1/3 (erp)`]);
      // The same reading again changes nothing; then SVC untracked again.
      assert.deepEqual(
        storeReadLevels(w.db, [ITEM(2)], read, Date.now(), { items: [{ id: ITEM(2), tracked: true }], locations: [{ id: LOC(2), isActive: true }] }),
        { untracked: [], trackedAgain: [], deactivated: [], reactivated: [] },
      );
      const gone = storeReadLevels(w.db, [ITEM(2)], read, Date.now(), { items: [{ id: ITEM(2), tracked: false }], locations: [] });
      assert.deepEqual(gone.untracked, ['SVC']);
      assert.deepEqual(leftOutLevels(w.db, config), { levels: 2, ofUntrackedItems: 2, atInactiveLocations: 0 });
      assert.deepEqual(view(recomputer.compute(recomputer.affected(['SVC']))), [`SVC@${LOC(1)}: untracked 12/0 (erp)`, `SVC@${LOC(2)}: untracked 1/3 (erp)`]);
    } finally {
      recomputer.close();
      w.close();
    }
  });
});
