import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../../src/errors.js';
import { bundleAvailable, bundleOrder, findCycle, readBundles, type BundleMap } from '../../../src/reconcile/bundles.js';
import { tempDir } from '../../helpers/cli.js';

const temp = tempDir('invrecon-bundles-');
after(() => temp.cleanup());
let fileNo = 0;
function file(text: string): string {
  const path = join(temp.dir, `bundles-${fileNo++}.csv`);
  writeFileSync(path, text);
  return path;
}
function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an InputError');
}

describe('readBundles', () => {
  it('reads bundles in file order, with header names matched loosely and any delimiter', () => {
    const bundles = readBundles(file('Bundle SKU;Component SKU;Quantity\nKIT;A;1\nKIT;B;2\nBOX;KIT;3\n'));
    assert.deepEqual(
      [...bundles.entries()],
      [
        [
          'KIT',
          [
            { sku: 'A', quantity: 1 },
            { sku: 'B', quantity: 2 },
          ],
        ],
        ['BOX', [{ sku: 'KIT', quantity: 3 }]],
      ],
    );
  });
  it('is empty for a header-only or empty file', () => {
    assert.equal(readBundles(file('bundle_sku,component_sku,quantity\n')).size, 0);
    assert.equal(readBundles(file('')).size, 0);
  });
  it('names a missing column', () => {
    const error = inputError(() => readBundles(file('bundle_sku,component\nKIT,A\n')));
    assert.match(error.message, /:1: missing columns component_sku, quantity/);
  });
  it('names every bad row by line and column', () => {
    const path = file('bundle_sku,component_sku,quantity\nKIT,A,1\n,B,1\nKIT,,2\nKIT,C,0\nKIT,D,1.5\nKIT,E,x\nKIT,KIT,1\nKIT,A,4\n');
    const error = inputError(() => readBundles(path));
    assert.equal(error.message, `${path}: 8 bad bundle rows`);
    assert.deepEqual(error.details, [
      `${path}:3:1: bundle_sku is empty`,
      `${path}:4:2: component_sku is empty`,
      `${path}:5:3: quantity expected a whole number ≥ 1, got "0"`,
      `${path}:6:3: quantity expected a whole number ≥ 1, got "1.5"`,
      `${path}:7:3: quantity expected a whole number ≥ 1, got "x"`,
      `${path}:8: bundle "KIT" lists itself as a component`,
      `${path}:9: component "A" of bundle "KIT" repeats line 2`,
      // The self-reference on line 8 is a cycle too.
      `${path}: bundles form a cycle: KIT -> KIT`,
    ]);
  });
  it('rejects cycles through nested bundles', () => {
    const path = file('bundle_sku,component_sku,quantity\nA,B,1\nB,C,1\nC,A,1\nC,X,1\n');
    const error = inputError(() => readBundles(path));
    assert.deepEqual(error.details, [`${path}: bundles form a cycle: A -> B -> C -> A`]);
  });
  it('says which file it could not read', () => {
    const error = inputError(() => readBundles(join(temp.dir, 'nope.csv')));
    assert.match(error.message, /nope\.csv: cannot read the bundle file/);
  });
});

describe('findCycle and bundleOrder', () => {
  const nested: BundleMap = new Map([
    [
      'GIFT',
      [
        { sku: 'KIT', quantity: 2 },
        { sku: 'CARD', quantity: 1 },
      ],
    ],
    ['KIT', [{ sku: 'A', quantity: 1 }]],
    [
      'BIG',
      [
        { sku: 'GIFT', quantity: 1 },
        { sku: 'KIT', quantity: 1 },
      ],
    ],
  ]);
  it('finds no cycle in a nested tree, and orders components first', () => {
    assert.equal(findCycle(nested), undefined);
    const order = bundleOrder(nested);
    assert.deepEqual(order, ['KIT', 'GIFT', 'BIG']);
  });
  it('finds a two-bundle cycle', () => {
    assert.deepEqual(
      findCycle(
        new Map([
          ['A', [{ sku: 'B', quantity: 1 }]],
          ['B', [{ sku: 'A', quantity: 1 }]],
        ]),
      ),
      ['A', 'B', 'A'],
    );
  });
});

describe('bundleAvailable', () => {
  const stock: Record<string, number> = { A: 10, B: 7, C: 0 };
  const of = (sku: string) => stock[sku] ?? 0;
  it('is the minimum over components of floor(available / quantity)', () => {
    // A: 10/3 = 3, B: 7/2 = 3 → 3, limited by the first component at the minimum.
    assert.deepEqual(
      bundleAvailable(
        [
          { sku: 'A', quantity: 3 },
          { sku: 'B', quantity: 2 },
        ],
        of,
      ),
      { available: 3, limitedBy: 'A' },
    );
    assert.deepEqual(
      bundleAvailable(
        [
          { sku: 'A', quantity: 1 },
          { sku: 'B', quantity: 1 },
        ],
        of,
      ),
      { available: 7, limitedBy: 'B' },
    );
  });
  it('is 0 when a component is out or unknown', () => {
    assert.deepEqual(
      bundleAvailable(
        [
          { sku: 'A', quantity: 1 },
          { sku: 'C', quantity: 1 },
        ],
        of,
      ),
      { available: 0, limitedBy: 'C' },
    );
    assert.deepEqual(
      bundleAvailable(
        [
          { sku: 'A', quantity: 1 },
          { sku: 'GONE', quantity: 1 },
        ],
        of,
      ),
      { available: 0, limitedBy: 'GONE' },
    );
  });
  it('subtracts the bundle’s own safety stock after the minimum, never below 0', () => {
    assert.deepEqual(bundleAvailable([{ sku: 'A', quantity: 3 }], of, 2), { available: 1, limitedBy: 'A' });
    assert.deepEqual(bundleAvailable([{ sku: 'A', quantity: 3 }], of, 5), { available: 0, limitedBy: 'A' });
  });
  it('a component whose availability is null does not limit it; with none that limits, it is null (unknown), not 0', () => {
    const withService = (sku: string) => (sku === 'SVC' ? null : of(sku));
    assert.deepEqual(
      bundleAvailable(
        [
          { sku: 'SVC', quantity: 1 },
          { sku: 'B', quantity: 2 },
        ],
        withService,
      ),
      { available: 3, limitedBy: 'B' },
    );
    assert.deepEqual(bundleAvailable([{ sku: 'SVC', quantity: 1 }], withService), { available: null, limitedBy: null });
    assert.deepEqual(bundleAvailable([], of), { available: null, limitedBy: null });
  });
});
