import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonFile, resolveConfig } from '../../src/config/load.js';
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
    assert.match(
      errorOf({ ...minimal, shopify: { shop: 'acme.myshopify.com', apiVersion: '2025-10' } }).message,
      /shopify\.apiVersion: expected an API version from 2026-04 on/,
    );
  });
});

describe('JSON files (config, plans)', () => {
  it('a syntax error names its line and column, also where V8 says only "Unexpected token"', () => {
    const bad = (text: string, where: RegExp) =>
      assert.throws(
        () => parseJsonFile('x.json', text),
        (error: unknown) => error instanceof InputError && where.test(error.message),
      );
    bad('{\n  "shopify": }\n', /^x\.json:2:14: invalid JSON: Unexpected token '\}'/);
    bad('{\n  "a": 1,\n}\n', /^x\.json:3:1: invalid JSON: Expected double-quoted property name$/);
    bad('{\n  "a": tru\n}', /^x\.json:2:8: invalid JSON/);
  });

  it('a key twice in one object is refused where the second one stands; the same key in two objects is fine', () => {
    assert.throws(
      () => parseJsonFile('x.json', '{ "a": { "b": 1 }, "c": { "b": 2 },\n  "a": 3 }'),
      (error: unknown) => error instanceof InputError && /^x\.json:2:3: key "a" appears twice in the same object/.test(error.message),
    );
    assert.deepEqual(parseJsonFile('x.json', '{ "a": { "b": 1 }, "c": [{ "b": 2 }, { "b": 3 }] }'), { a: { b: 1 }, c: [{ b: 2 }, { b: 3 }] });
  });
});
