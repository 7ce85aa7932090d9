import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEmulator, type Seed } from '../../../src/emulator/index.js';
import { ADJUST_MUTATION, freshKey, gql, SET_MUTATION, setInput } from './helpers.js';

const ACTIVE = 'gid://shopify/Location/1';
const CLOSED = 'gid://shopify/Location/2';
const TRACKED = 'gid://shopify/InventoryItem/1';
const UNTRACKED = 'gid://shopify/InventoryItem/2';

const seed: Seed = {
  locations: [
    { id: ACTIVE, name: 'Main' },
    { id: CLOSED, name: 'Closed Store', isActive: false },
  ],
  items: [
    {
      sku: 'A',
      inventoryItemId: TRACKED,
      levels: [
        { locationId: ACTIVE, available: 5 },
        { locationId: CLOSED, available: 2 },
      ],
    },
    { sku: 'B', inventoryItemId: UNTRACKED, tracked: false, levels: [{ locationId: ACTIVE, available: 0 }] },
  ],
};

describe('emulator: inactive locations and untracked items', () => {
  it('hides inactive locations from locations() unless includeInactive, and reports isActive and tracked', async () => {
    const emulator = await startEmulator({ seed });
    try {
      const active = await gql(emulator, '{ locations(first: 10) { nodes { id isActive } } }');
      assert.deepEqual(active.body.data!.locations.nodes, [{ id: ACTIVE, isActive: true }]);
      const all = await gql(emulator, '{ locations(first: 10, includeInactive: true) { nodes { id name isActive } } }');
      assert.deepEqual(all.body.data!.locations.nodes, [
        { id: CLOSED, name: 'Closed Store', isActive: false },
        { id: ACTIVE, name: 'Main', isActive: true },
      ]);
      const byId = await gql(emulator, `{ location(id: "${CLOSED}") { isActive } }`);
      assert.equal(byId.body.data!.location.isActive, false);
      const items = await gql(emulator, '{ inventoryItems(first: 10) { nodes { sku tracked } } }');
      assert.deepEqual(items.body.data!.inventoryItems.nodes, [
        { sku: 'A', tracked: true },
        { sku: 'B', tracked: false },
      ]);
    } finally {
      await emulator.close();
    }
  });

  it('refuses writes at an inactive location and on an untracked item, all or nothing', async () => {
    const emulator = await startEmulator({ seed });
    try {
      const answer = await gql(emulator, SET_MUTATION, {
        key: freshKey(),
        input: setInput([
          { inventoryItemId: TRACKED, locationId: ACTIVE, quantity: 6, changeFromQuantity: 5 },
          { inventoryItemId: TRACKED, locationId: CLOSED, quantity: 3, changeFromQuantity: 2 },
          { inventoryItemId: UNTRACKED, locationId: ACTIVE, quantity: 4, changeFromQuantity: 0 },
        ]),
      });
      const payload = answer.body.data!.inventorySetQuantities;
      assert.equal(payload.inventoryAdjustmentGroup, null);
      assert.deepEqual(
        payload.userErrors.map((e: any) => [e.code, e.field.join('.')]),
        [
          ['INVALID_LOCATION', 'input.quantities.1.locationId'],
          ['NON_MUTABLE_INVENTORY_ITEM', 'input.quantities.2.inventoryItemId'],
        ],
      );
      assert.equal(emulator.state.level(TRACKED, ACTIVE)!.available, 5);
      const adjust = await gql(emulator, ADJUST_MUTATION, {
        key: freshKey(),
        input: { reason: 'correction', name: 'available', changes: [{ inventoryItemId: UNTRACKED, locationId: ACTIVE, delta: 1, changeFromQuantity: null }] },
      });
      assert.deepEqual(
        adjust.body.data!.inventoryAdjustQuantities.userErrors.map((e: any) => e.code),
        ['NON_MUTABLE_INVENTORY_ITEM'],
      );
    } finally {
      await emulator.close();
    }
  });

  it('sells only tracked items at active locations', async () => {
    const emulator = await startEmulator({ seed, faults: { salesPerSecond: 200 } });
    try {
      assert.throws(() => emulator.state.sell(UNTRACKED, ACTIVE), /untracked/);
      assert.throws(() => emulator.state.sell(TRACKED, CLOSED), /inactive/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      emulator.state.setFaults({ salesPerSecond: 0 });
      assert.ok(emulator.state.history.length > 0, 'the sales stream ran');
      for (const entry of emulator.state.history) assert.deepEqual([entry.inventoryItemId, entry.locationId], [TRACKED, ACTIVE]);
    } finally {
      await emulator.close();
    }
  });
});
