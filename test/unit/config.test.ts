import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { InputError } from '../../src/errors.js';

const minimal = {
  shopify: { shop: 'acme.myshopify.com' },
  erp: { csv: { path: 'erp.csv' } },
  locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main Warehouse' }],
};

function errorOf(raw: unknown): InputError {
  try {
    resolveConfig(raw, '/cfg/invrecon.config.json');
  } catch (error) {
    assert.ok(error instanceof InputError);
    return error;
  }
  assert.fail('expected an InputError');
}

describe('config', () => {
  it('fills defaults and resolves paths against the config folder', () => {
    const config = resolveConfig(minimal, '/cfg/invrecon.config.json');
    assert.equal(config.shopify.apiVersion, '2026-10');
    assert.equal(config.erp.csv?.path, '/cfg/erp.csv');
    assert.equal(config.snapshot.path, '/cfg/.invrecon/snapshot.db');
    assert.deepEqual(config.guards, { maxChanges: 10_000, maxZeroedShare: 0.2, maxRowDrop: 0.5 });
    assert.equal(config.unknownSkus, 'ignore');
  });

  it('names the key path and what was expected', () => {
    const error = errorOf({ ...minimal, locations: [minimal.locations[0], { warehouses: [], shopifyLocation: 'X' }] });
    assert.match(error.message, /locations\[1\]\.warehouses: expected a non-empty list/);
    assert.match(error.message, /\/cfg\/invrecon\.config\.json/);
  });

  it('reports unknown keys, bad enums and a warehouse mapped twice', () => {
    assert.match(errorOf({ ...minimal, shopfy: {} }).message, /shopfy: unknown key/);
    assert.match(errorOf({ ...minimal, unknownSkus: 'delete' }).message, /unknownSkus: expected "ignore", "report" or "zero"/);
    const twice = errorOf({ ...minimal, locations: [minimal.locations[0], { warehouses: ['WH-A'], shopifyLocation: 'Y' }] });
    assert.match(twice.message, /locations\[1\]\.warehouses\[0\]: warehouse "WH-A" is already mapped by locations\[0\]/);
  });

  it('refuses API versions before 2026-04', () => {
    assert.match(errorOf({ ...minimal, shopify: { shop: 'acme.myshopify.com', apiVersion: '2025-10' } }).message, /shopify\.apiVersion: expected an API version from 2026-04 on/);
  });
});
