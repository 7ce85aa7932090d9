// Issue 12, item 1: under hybrid authority a Shopify sale must be counted once, though both sides show
// it (Shopify's available drops; the ERP reserves it, or has Shopify's committed subtracted).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ITEM, LOC, rowOf, workspace } from './helpers.js';

const cycle = fc.record({
  sales: fc.nat(3),
  /** How many of the sales the ERP has not yet heard of to learn now (in-erp-reserved). */
  learn: fc.nat(4),
  receipts: fc.nat(5),
  /** Shopify's own moves (a count in the shop, damaged goods): its available changes, nothing else. */
  adjustment: fc.integer({ min: -2, max: 3 }),
});

describe('hybrid authority counts a Shopify sale once (apply → sale → ERP learns → pull → plan)', () => {
  it('the applied target is the stock less the sales, whichever mode, however late the ERP learns', () => {
    fc.assert(
      fc.property(fc.constantFrom('in-erp-reserved', 'subtract'), fc.array(cycle, { minLength: 1, maxLength: 6 }), (mode, cycles) => {
        const ws = workspace();
        try {
          const config = ws.config({ locations: [{ warehouses: ['W'], shopifyLocation: 'Main' }], authority: { default: 'hybrid' }, shopifyCommitted: mode });
          const erp = { onHand: 40, reserved: 0 };
          const shop = { available: 25, committed: 0 };
          let unlearned = 0;
          let truth = 40; // what can be sold: stock received, adjusted and not yet sold
          const run = (label: string) => {
            ws.erp([{ sku: 'A', wh: 'W', onHand: erp.onHand, reserved: mode === 'in-erp-reserved' ? erp.reserved : 0 }]);
            const snapshot = ws.shopify({
              locations: [{ id: LOC(1), name: 'Main' }],
              levels: [{ sku: 'A', item: ITEM(1), location: LOC(1), available: shop.available, committed: shop.committed }],
            });
            const row = rowOf(ws.diff(config, { all: true }), 'A', LOC(1));
            assert.notEqual(row.target, null, `${label}: ${row.reason}`);
            // apply: Shopify's available becomes the target; the base is recorded as apply records it.
            shop.available = row.target!;
            ws.db
              .prepare(
                `INSERT OR REPLACE INTO reconciled_levels (sku, location_id, erp_available, shopify_available, shopify_snapshot_id, reconciled_at) VALUES ('A', ?, ?, ?, ?, '2026-01-01T00:00:00Z')`,
              )
              .run(LOC(1), row.erp!.available, row.target, snapshot.id);
            return row;
          };
          run('first plan (no base: the ERP is taken)');
          assert.equal(shop.available, truth);
          cycles.forEach((c, i) => {
            shop.available -= c.sales;
            shop.committed += c.sales;
            unlearned += c.sales;
            truth -= c.sales;
            const learnt = Math.min(c.learn, unlearned);
            erp.reserved += learnt;
            unlearned -= learnt;
            erp.onHand += c.receipts;
            truth += c.receipts;
            const adjustment = Math.max(c.adjustment, -shop.available);
            shop.available += adjustment;
            truth += adjustment;
            const row = run(`cycle ${i + 1}`);
            // Every sale the ERP knows of (in subtract mode: all of them) is counted exactly once.
            if (mode === 'subtract' || unlearned === 0) assert.equal(shop.available, truth, `cycle ${i + 1}: ${row.reason}`);
          });
          // The ERP learns the rest: one more cycle and both sides agree on the truth.
          erp.reserved += unlearned;
          unlearned = 0;
          const last = run('after the ERP learnt every sale');
          assert.equal(shop.available, truth, last.reason);
        } finally {
          ws.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
