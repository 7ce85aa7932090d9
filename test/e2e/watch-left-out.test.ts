// watch and a shop that changes under it: an item untracked, a location deactivated after the snapshot
// watch started from. Shopify refuses the writes there; watch reads those items again, learns it, and
// from then on leaves their levels out as diff and plan do, and counts them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { DOWNTOWN, ENGRAVING, hygieneFiles, hygieneSeed, hygieneSeedBefore, MAIN, OLD, TEE } from '../helpers/hygiene-shop.js';
import { TEST_TOKEN, openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';
import { health, postRows, settled, spawnWatch, type WatchProcess } from './watch-helpers.js';

describe('watch: an item untracked and a location deactivated while it runs', () => {
  let shop: ShopWorkspace;
  let changed: RunningEmulator;
  let watch: WatchProcess;
  const writes = () => changed.state.counters.operations['inventorySetQuantities'] ?? 0;

  before(async () => {
    // The snapshot watch starts from was read while everything was tracked and active.
    shop = await openShopWorkspace({ seed: hygieneSeedBefore, files: hygieneFiles });
    for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side])).code, 0);
    // The shop as it is now: the same levels, ENGRAVING no longer tracked, Old Store deactivated.
    changed = await startEmulator({ seed: hygieneSeed, port: 0 });
    watch = await spawnWatch(shop.dir, { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: changed.url }, ['--port', '0']);
  });
  after(async () => {
    const code = await watch?.stop();
    await changed?.close();
    await shop?.close();
    assert.equal(code, 0, watch?.stderr());
  });

  it('a refused write makes it read the item again: the levels are left out from then on, counted, and never written', async () => {
    assert.deepEqual((await health(watch.url)).leftOut, { levels: 0, ofUntrackedItems: 0, atInactiveLocations: 0 });
    const posted = await postRows(watch.url, [
      { sku: 'ENGRAVING', warehouse: 'WH-A', on_hand: 15, reserved: 0 },
      { sku: 'TEE-RED-M', warehouse: 'WH-OLD', on_hand: 11, reserved: 0 },
      { sku: 'TEE-RED-M', warehouse: 'WH-A', on_hand: 10, reserved: 0 },
    ]);
    assert.equal(posted.status, 202);
    assert.ok(await settled(watch.url, 30_000), 'watch settled');
    // TEE-RED-M at Main Warehouse was written; Shopify refused the rest, and nothing moved there.
    assert.equal(changed.state.level(TEE, MAIN)!.available, 10);
    assert.equal(changed.state.level(ENGRAVING, MAIN)!.available, 0);
    assert.equal(changed.state.level(ENGRAVING, DOWNTOWN)!.available, 7);
    assert.equal(changed.state.level(TEE, OLD)!.available, 4);
    assert.match(watch.stderr(), /NON_MUTABLE_INVENTORY_ITEM/);
    assert.match(watch.stderr(), /ENGRAVING: Shopify does not track its quantities any more \(read again\): its 2 levels are left out/);
    assert.match(watch.stderr(), /"Old Store" is inactive in Shopify \(read again\): its 1 level is left out/);
    assert.deepEqual((await health(watch.url)).leftOut, { levels: 3, ofUntrackedItems: 2, atInactiveLocations: 1 });
    const metrics = await (await fetch(`${watch.url}/metrics`)).text();
    assert.match(metrics, /^invrecon_watch_left_out_levels\{why="untracked-item"\} 2$/m);
    assert.match(metrics, /^invrecon_watch_left_out_levels\{why="inactive-location"\} 1$/m);

    // New events for those levels: recomputed, left out, nothing sent.
    const sent = writes();
    assert.equal(
      (
        await postRows(watch.url, [
          { sku: 'ENGRAVING', warehouse: 'WH-A', on_hand: 20, reserved: 0 },
          { sku: 'ENGRAVING', warehouse: 'STORE-1', on_hand: 1, reserved: 0 },
          { sku: 'TEE-RED-M', warehouse: 'WH-OLD', on_hand: 12, reserved: 0 },
        ])
      ).status,
      202,
    );
    assert.ok(await settled(watch.url, 30_000), 'watch settled');
    assert.equal(writes(), sent, 'no write sent for levels left out');
    assert.equal(changed.state.level(ENGRAVING, MAIN)!.available, 0);
    assert.equal(changed.state.level(TEE, OLD)!.available, 4);
  });

  it('status shows the count in its watch line', async () => {
    // The figures status reads are recorded every 2 s.
    const deadline = Date.now() + 10_000;
    let json: any;
    do {
      json = JSON.parse((await shop.cli(['status', '--format', 'json'])).stdout);
      if (json.watch?.leftOut?.levels === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    } while (Date.now() < deadline);
    assert.deepEqual(json.watch.leftOut, { levels: 3, ofUntrackedItems: 2, atInactiveLocations: 1 });
    const text = await shop.cli(['status']);
    assert.match(text.stdout, /^Watch: running .*; 3 levels left out: 2 of untracked items, 1 at inactive locations/m);
  });
});
