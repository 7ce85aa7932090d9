import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { evaluate, toSql, type Expr } from '../../../src/reconcile/expr.js';
import {
  AUTHORITY,
  AUTHORITY_SOURCE,
  AVAILABLE,
  CLAMPED,
  CONFLICT,
  decision,
  MERGED,
  ORDERS,
  PRESENCE,
  SAFETY,
  SAFETY_SOURCE,
  WORTH_A_LINE,
} from '../../../src/reconcile/rules.js';

// Each rule is rendered into the diff's SQL and evaluated in JS for one level: on any inputs, NULLs
// included, SQLite and the evaluator must give the same value.

const db = new Database(':memory:');
const quantity = fc.option(fc.integer({ min: -5, max: 12 }), { nil: null, freq: 4 });
const authority = fc.option(fc.constantFrom('erp', 'shopify', 'hybrid'), { nil: null, freq: 4 });
const inputs = fc.record({
  on_hand: fc.nat(12),
  reserved: fc.nat(6),
  safety: fc.nat(4),
  committed: fc.nat(4),
  erp_safety: quantity,
  sku_safety: quantity,
  category_safety: quantity,
  location_safety: quantity,
  default_safety: fc.nat(3),
  category_authority: authority,
  location_authority: authority,
  default_authority: fc.constantFrom('erp', 'shopify', 'hybrid'),
  n_items: fc.option(fc.integer({ min: 1, max: 2 }), { nil: null, freq: 4 }),
  tracked: fc.option(fc.constantFrom(0, 1), { nil: null, freq: 4 }),
  location_active: fc.constantFrom(0, 1),
  observed: quantity,
  erp_available: fc.nat(12),
  authority: fc.constantFrom('erp', 'shopify', 'hybrid'),
  base_erp: quantity,
  base_shopify: quantity,
  orders: quantity,
  committed_now: quantity,
  committed_base: quantity,
  presence: fc.constantFrom('pending', 'not-in-shopify', 'ambiguous-sku', 'not-stocked', 'untracked', 'inactive-location'),
});

const sqlValue = (expr: Expr, row: Record<string, unknown>): unknown => {
  const bind = Object.fromEntries(Object.keys(row).map((name) => [name, `@${name}`]));
  return db
    .prepare(`SELECT ${toSql(expr, bind)} AS v`)
    .pluck()
    .get(row);
};
const jsValue = (expr: Expr, row: Record<string, unknown>): unknown => {
  const value = evaluate(expr, row);
  return typeof value === 'boolean' ? Number(value) : value;
};

const rules: Record<string, Expr> = {
  AVAILABLE,
  CLAMPED,
  SAFETY,
  SAFETY_SOURCE,
  AUTHORITY,
  AUTHORITY_SOURCE,
  PRESENCE,
  WORTH_A_LINE,
  ORDERS,
  MERGED,
  CONFLICT,
  target: decision(true).target,
  status: decision(true).status,
  'target without a base': decision(false).target,
  'status without a base': decision(false).status,
};

describe('rules: SQL and JS agree', () => {
  for (const [name, expr] of Object.entries(rules)) {
    it(name, () => {
      fc.assert(
        fc.property(inputs, (row) => {
          assert.deepEqual(jsValue(expr, row), sqlValue(expr, row));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('a decision without a base equals the full one when there is no base', () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const row = { ...input, base_erp: null, base_shopify: null };
        assert.equal(evaluate(decision(false).status, row), evaluate(decision(true).status, row));
        assert.equal(evaluate(decision(false).target, row), evaluate(decision(true).target, row));
      }),
    );
  });

  it('refuses an input the rule needs but the row lacks', () => {
    assert.throws(() => evaluate(AVAILABLE, { on_hand: 1 }), /rule input reserved is missing/);
  });
});
