import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveLocations } from '../../../src/reconcile/locations.js';

const shop = [
  { id: 'gid://shopify/Location/1', name: 'Main Warehouse' },
  { id: 'gid://shopify/Location/2', name: 'Downtown Store' },
  { id: 'gid://shopify/Location/3', name: 'Kiosk' },
  { id: 'gid://shopify/Location/4', name: 'Kiosk' },
];
const resolve = (locations: { warehouses: string[]; shopifyLocation: string; authority?: 'erp' | 'shopify' | 'hybrid' }[]) =>
  resolveLocations({ locations }, shop);

describe('resolveLocations', () => {
  it('maps by exact name and by gid, keeping warehouses and authority', () => {
    const { resolved, problems } = resolve([
      { warehouses: ['WH-A', 'WH-A2'], shopifyLocation: 'Main Warehouse', authority: 'erp' },
      { warehouses: ['STORE-1'], shopifyLocation: 'gid://shopify/Location/2' },
      { warehouses: ['K'], shopifyLocation: 'gid://shopify/Location/4', authority: 'hybrid' },
    ]);
    assert.deepEqual(problems, []);
    assert.deepEqual(resolved, [
      {
        locationId: 'gid://shopify/Location/1',
        locationName: 'Main Warehouse',
        warehouses: ['WH-A', 'WH-A2'],
        authority: 'erp',
        configIndex: 0,
        isActive: true,
      },
      { locationId: 'gid://shopify/Location/2', locationName: 'Downtown Store', warehouses: ['STORE-1'], authority: undefined, configIndex: 1, isActive: true },
      { locationId: 'gid://shopify/Location/4', locationName: 'Kiosk', warehouses: ['K'], authority: 'hybrid', configIndex: 2, isActive: true },
    ]);
  });
  it('reports an unknown name, with a hint when only the case differs', () => {
    const { resolved, problems } = resolve([
      { warehouses: ['A'], shopifyLocation: 'main warehouse' },
      { warehouses: ['B'], shopifyLocation: 'Warehouse 9' },
    ]);
    assert.deepEqual(resolved, []);
    assert.deepEqual(problems, [
      'locations[0].shopifyLocation: no Shopify location is named "main warehouse" (did you mean "Main Warehouse"?)',
      'locations[1].shopifyLocation: no Shopify location is named "Warehouse 9"',
    ]);
  });
  it('reports an unknown gid', () => {
    const { problems } = resolve([{ warehouses: ['A'], shopifyLocation: 'gid://shopify/Location/99' }]);
    assert.deepEqual(problems, ['locations[0].shopifyLocation: no Shopify location has id gid://shopify/Location/99']);
  });
  it('refuses to guess between two locations of the same name', () => {
    const { resolved, problems } = resolve([{ warehouses: ['K'], shopifyLocation: 'Kiosk' }]);
    assert.deepEqual(resolved, []);
    assert.deepEqual(problems, [
      'locations[0].shopifyLocation: 2 Shopify locations are named "Kiosk"; use the id (gid://shopify/Location/3, gid://shopify/Location/4)',
    ]);
  });
  it('reports the same location mapped twice (once by name, once by id) and keeps the first', () => {
    const { resolved, problems } = resolve([
      { warehouses: ['A'], shopifyLocation: 'Main Warehouse' },
      { warehouses: ['B'], shopifyLocation: 'gid://shopify/Location/1' },
    ]);
    assert.deepEqual(
      resolved.map((r) => [r.locationId, r.warehouses]),
      [['gid://shopify/Location/1', ['A']]],
    );
    assert.deepEqual(problems, ['locations[1].shopifyLocation: "Main Warehouse" is already mapped by locations[0]; list all its warehouses in one entry']);
  });
});
