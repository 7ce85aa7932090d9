import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { changeRow, isChangeRow } from '../../../src/plan/file-rows.js';

// Values near each field's limits, of the right type and of others: the guard must agree with zod on all.
const anyJson = fc.oneof(fc.constant(null), fc.boolean(), fc.string({ maxLength: 4 }), fc.double(), fc.constant([]), fc.constant({}));
const int = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, -Number.MAX_SAFE_INTEGER - 1, -0, 0.5, Number.NaN) },
);
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 40, arbitrary: valid }, { weight: 1, arbitrary: anyJson }, { weight: 1, arbitrary: int });
const source = fc.constantFrom('erp', 'bySku', 'byCategory', 'byLocation', 'default', 'erp', 'bySku', 'other');
const why = fc.oneof(
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 4, arbitrary: fc.tuple(int, int, int, source, int) },
  { weight: 1, arbitrary: fc.array(fc.oneof(int, source), { maxLength: 6 }) },
);
const row = fc.record(
  {
    sku: field(fc.string({ maxLength: 6 })),
    item: field(fc.oneof(int, fc.string({ maxLength: 6 }))),
    loc: field(int),
    from: field(int),
    to: field(int),
    why: field(why),
    mode: field(fc.constantFrom('adjust', 'adjust', 'set')),
    authority: field(fc.constantFrom('hybrid', 'shopify', 'hybrid', 'erp')),
    erp: field(int),
    extra: anyJson,
  },
  { requiredKeys: ['sku', 'item', 'loc', 'from', 'to', 'why'] },
);

describe('plan file change rows', () => {
  it('the quick check passes exactly the rows zod passes', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 8, arbitrary: row }, { weight: 1, arbitrary: anyJson }, { weight: 1, arbitrary: fc.array(int) }), (value) => {
        assert.equal(isChangeRow(value), changeRow.safeParse(value).success, JSON.stringify(value));
      }),
      { numRuns: 20_000 },
    );
  });
});
