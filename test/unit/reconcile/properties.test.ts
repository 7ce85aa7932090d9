import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Authority } from '../../../src/config/schema.js';
import { bundleAvailable } from '../../../src/reconcile/bundles.js';
import { availableQuantity, mergeHybrid } from '../../../src/reconcile/rules.js';
import { ITEM, LOC, workspace, type ErpLine, type ShopLevel } from './helpers.js';

describe('properties of the pure rules', () => {
  it('available is never negative, and clamped exactly when the formula goes below 0', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(100), fc.nat(100), (onHand, reserved, safety, committed) => {
        const { available, clamped } = availableQuantity(onHand, reserved, safety, committed);
        const raw = onHand - reserved - safety - committed;
        assert.ok(available >= 0);
        assert.equal(available, Math.max(0, raw));
        assert.equal(clamped, raw < 0);
      }),
    );
  });

  it('a bundle never exceeds any component’s capacity floor(available / quantity)', () => {
    const component = fc.record({ sku: fc.constantFrom('A', 'B', 'C', 'D'), quantity: fc.integer({ min: 1, max: 6 }) });
    fc.assert(
      fc.property(
        fc.array(component, { minLength: 1, maxLength: 4 }),
        fc.dictionary(fc.constantFrom('A', 'B', 'C', 'D'), fc.nat(50)),
        fc.nat(5),
        (components, stock, safety) => {
          const of = (sku: string) => stock[sku] ?? 0;
          const available = bundleAvailable(components, of, safety).available!;
          assert.ok(available >= 0);
          for (const c of components) assert.ok(available <= Math.floor(of(c.sku) / c.quantity), `${available} > ${of(c.sku)}/${c.quantity}`);
          // …and it is the largest such number, less the safety stock.
          assert.equal(available, Math.max(0, Math.min(...components.map((c) => Math.floor(of(c.sku) / c.quantity))) - safety));
        },
      ),
    );
  });

  it('merging with zero deltas is the identity', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (erp, shopify) => {
        assert.deepEqual(mergeHybrid({ erp, shopify }, erp, shopify), { kind: 'merged', target: shopify, erpDelta: 0, shopifyDelta: 0 });
      }),
    );
  });

  it('a merge with one side unchanged takes the other side’s move (clamped at 0), never a conflict', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.nat(100), fc.nat(100), fc.boolean(), (baseErp, baseShopify, now, erpMoved) => {
        const outcome = erpMoved
          ? mergeHybrid({ erp: baseErp, shopify: baseShopify }, now, baseShopify)
          : mergeHybrid({ erp: baseErp, shopify: baseShopify }, baseErp, now);
        assert.equal(outcome.kind, 'merged');
        assert.ok(outcome.kind === 'merged');
        assert.equal(outcome.target, erpMoved ? Math.max(0, baseShopify + now - baseErp) : now);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Differential check: random small snapshots and configs through computeDiff (SQL) and through a plain
// TypeScript reading of the inventory rules (README "The inventory rules, in short"; pooling, safety
// stock, bundles, authority) below. Every row, target and status must agree.

const LOCATIONS = [
  { id: LOC(1), name: 'Main' },
  { id: LOC(2), name: 'Store' },
  { id: LOC(3), name: 'Kiosk' },
];
const WAREHOUSES = ['W1', 'W2', 'W3', 'W4'];
const ERP_SKUS = ['S1', 'S2', 'S3', 'S4', 'S5'];
const BUNDLE_SKUS = ['B1', 'B2'];
const CATEGORIES = ['c1', 'c2'];
const ITEM_POOL: (string | null)[] = [...ERP_SKUS, 'U1', 'U2', ...BUNDLE_SKUS, null];
const authority = fc.constantFrom<Authority>('erp', 'shopify', 'hybrid', 'hybrid');
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const scenario = fc.record({
  // Where each warehouse goes: a location index, or -1 for unmapped. W1 is always mapped (config needs one entry).
  warehouseTo: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1, max: 2 })),
  byGid: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  locationAuthority: fc.array(maybe(authority), { minLength: 3, maxLength: 3 }),
  skuCategory: fc.array(fc.option(fc.constantFrom(...CATEGORIES), { nil: null }), { minLength: 5, maxLength: 5 }),
  erp: fc.uniqueArray(
    fc.record({
      sku: fc.constantFrom(...ERP_SKUS),
      wh: fc.constantFrom(...WAREHOUSES),
      onHand: fc.nat(12),
      reserved: fc.nat(6),
      safety: fc.option(fc.nat(4), { nil: null }),
    }),
    { minLength: 1, maxLength: 14, selector: (r) => `${r.sku}/${r.wh}` },
  ),
  // Shopify items: each has a SKU (some shared, some unknown to the ERP, some bundles, some none).
  // Most SKUs get one item; now and then one more item repeats a SKU.
  items: fc
    .tuple(
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: ITEM_POOL.length, maxLength: ITEM_POOL.length }),
      fc.option(fc.constantFrom(...ITEM_POOL), { freq: 3, nil: undefined }),
    )
    .map(([keep, extra]) => {
      const skus = ITEM_POOL.filter((_, i) => keep[i]! > 0);
      return extra === undefined ? skus : [...skus, extra];
    }),
  // levelGrid[item * 3 + location]: two in three (item, location) pairs are stocked.
  levelGrid: fc.array(fc.option(fc.record({ available: fc.nat(8), committed: fc.nat(4) }), { freq: 3, nil: undefined }), { minLength: 33, maxLength: 33 }),
  // Small numbers so that merges going negative (conflicts) come up often.
  bases: fc.array(
    fc.record({ sku: fc.constantFrom(...ERP_SKUS, ...BUNDLE_SKUS), location: fc.integer({ min: 0, max: 2 }), erp: fc.nat(12), shopify: fc.nat(8) }),
    { maxLength: 15 },
  ),
  safety: fc.record({
    default: fc.nat(3),
    byLocation: fc.dictionary(fc.constantFrom('Main', 'Store', 'Kiosk'), fc.nat(4)),
    byCategory: fc.dictionary(fc.constantFrom(...CATEGORIES), fc.nat(4)),
    bySku: fc.dictionary(fc.constantFrom(...ERP_SKUS, ...BUNDLE_SKUS), fc.nat(4)),
  }),
  authority: fc.record({ default: authority, byCategory: fc.dictionary(fc.constantFrom(...CATEGORIES), authority) }),
  shopifyCommitted: fc.constantFrom('in-erp-reserved', 'subtract'),
  unknownSkus: fc.constantFrom('ignore', 'report', 'zero'),
  // B1 from S-components; B2 may contain B1 (nested).
  bundles: fc.option(
    fc.record({
      b1: fc.uniqueArray(fc.record({ sku: fc.constantFrom(...ERP_SKUS, 'GHOST'), quantity: fc.integer({ min: 1, max: 3 }) }), {
        minLength: 1,
        maxLength: 3,
        selector: (c) => c.sku,
      }),
      b2: fc.uniqueArray(fc.record({ sku: fc.constantFrom('B1', ...ERP_SKUS), quantity: fc.integer({ min: 1, max: 3 }) }), {
        minLength: 1,
        maxLength: 3,
        selector: (c) => c.sku,
      }),
    }),
    { nil: null },
  ),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface Expected {
  target: number | null;
  observed: number | null;
  status: string;
}

/** The inventory rules, written out loop by loop, independently of src/reconcile/rules.ts. */
function reference(s: Scenario): Map<string, Expected> {
  const out = new Map<string, Expected>();
  const categoryOf = (sku: string) => s.skuCategory[ERP_SKUS.indexOf(sku)] ?? null;
  const erpSkus = new Set(s.erp.map((r) => r.sku));
  const itemIds = s.items.map((_, i) => ITEM(i + 1));
  const itemsWithSku = (sku: string) => itemIds.filter((_, i) => s.items[i] === sku);
  const levels = shopLevels(s);
  const levelOf = (item: string, locationId: string) => levels.find((l) => l.item === item && l.location === locationId);
  const base = (sku: string, locationId: string) => {
    const found = [...s.bases].reverse().find((b) => b.sku === sku && LOC(b.location + 1) === locationId);
    return found && { erp: found.erp, shopify: found.shopify };
  };
  const decide = (auth: Authority, available: number, observed: number, prior: { erp: number; shopify: number } | undefined): Expected => {
    if (auth === 'shopify') return { target: available, observed, status: available === observed ? 'ok' : 'erp-correction' };
    if (auth === 'hybrid' && prior) {
      const merged = observed + (available - prior.erp);
      if (merged < 0 && available !== prior.erp && observed !== prior.shopify) return { target: null, observed, status: 'conflict' };
      const target = Math.max(0, merged);
      return { target, observed, status: target === observed ? 'ok' : 'change' };
    }
    return { target: available, observed, status: available === observed ? 'ok' : 'change' };
  };

  for (const [index, location] of LOCATIONS.entries()) {
    const warehouses = WAREHOUSES.filter((_, w) => s.warehouseTo[w] === index);
    if (warehouses.length === 0) continue;
    const locationAuthority = s.locationAuthority[index];
    const available = new Map<string, number>();
    for (const sku of ERP_SKUS.filter((k) => erpSkus.has(k))) {
      const rows = s.erp.filter((r) => r.sku === sku && warehouses.includes(r.wh));
      const items = itemsWithSku(sku);
      const level = items.length === 1 ? levelOf(items[0]!, location.id) : undefined;
      const onHand = rows.reduce((n, r) => n + r.onHand, 0);
      const reserved = rows.reduce((n, r) => n + r.reserved, 0);
      const erpSafety = rows.filter((r) => r.safety !== null).map((r) => r.safety!);
      const category = categoryOf(sku);
      const safety =
        erpSafety.length > 0
          ? erpSafety.reduce((a, b) => a + b, 0)
          : (s.safety.bySku[sku] ?? (category !== null ? s.safety.byCategory[category] : undefined) ?? s.safety.byLocation[location.name] ?? s.safety.default);
      const committed = s.shopifyCommitted === 'subtract' ? (level?.committed ?? 0) : 0;
      const avail = Math.max(0, onHand - reserved - safety - committed);
      available.set(sku, avail);
      if (rows.length === 0 && !level) continue;
      const key = `${sku}@${location.id}`;
      const auth = (category !== null ? s.authority.byCategory[category] : undefined) ?? locationAuthority ?? s.authority.default;
      if (items.length === 0) out.set(key, { target: avail, observed: null, status: 'not-in-shopify' });
      else if (items.length > 1) out.set(key, { target: avail, observed: null, status: 'ambiguous-sku' });
      else if (!level) {
        if (avail > 0) out.set(key, { target: avail, observed: null, status: 'not-stocked' });
      } else out.set(key, decide(auth, avail, level.available, base(sku, location.id)));
    }
    if (s.unknownSkus !== 'ignore') {
      const auth = locationAuthority ?? s.authority.default;
      for (const level of levels.filter(
        (l) => l.location === location.id && l.sku !== null && !erpSkus.has(l.sku) && !(s.bundles && BUNDLE_SKUS.includes(l.sku)),
      )) {
        const zero = s.unknownSkus === 'zero' && auth === 'erp';
        out.set(`${level.sku}@${location.id}@${level.item}`, {
          target: zero ? 0 : null,
          observed: level.available,
          status: zero ? (level.available === 0 ? 'ok' : 'change') : 'not-in-erp',
        });
      }
    }
    if (s.bundles) {
      const components: Record<string, { sku: string; quantity: number }[]> = { B1: s.bundles.b1, B2: s.bundles.b2 };
      for (const bundle of BUNDLE_SKUS) {
        const min = Math.min(...components[bundle]!.map((c) => Math.floor((available.get(c.sku) ?? 0) / c.quantity)));
        const avail = Math.max(0, min - (s.safety.bySku[bundle] ?? 0));
        available.set(bundle, avail);
        const items = itemsWithSku(bundle);
        const level = items.length === 1 ? levelOf(items[0]!, location.id) : undefined;
        const key = `${bundle}@${location.id}`;
        if (items.length === 0) out.set(key, { target: avail, observed: null, status: 'not-in-shopify' });
        else if (items.length > 1) out.set(key, { target: avail, observed: null, status: 'ambiguous-sku' });
        else if (!level) {
          if (avail > 0) out.set(key, { target: avail, observed: null, status: 'not-stocked' });
        } else out.set(key, decide(locationAuthority ?? s.authority.default, avail, level.available, base(bundle, location.id)));
      }
    }
  }
  return out;
}

/** The scenario's Shopify levels, from its grid of (item, location) pairs. */
function shopLevels(s: Scenario): ShopLevel[] {
  return s.items.flatMap((sku, item) =>
    LOCATIONS.flatMap((location, l) => {
      const level = s.levelGrid[item * 3 + l];
      return level ? [{ sku, item: ITEM(item + 1), location: location.id, available: level.available, committed: level.committed }] : [];
    }),
  );
}

describe('computeDiff agrees with a plain reading of the rules', () => {
  const ws = workspace();
  after(() => ws.close());

  it('on random snapshots and configs (targets, observed, statuses, which rows)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const locations = LOCATIONS.flatMap((location, index) => {
          const warehouses = WAREHOUSES.filter((_, w) => s.warehouseTo[w] === index);
          if (warehouses.length === 0) return [];
          const authority = s.locationAuthority[index];
          return [{ warehouses, shopifyLocation: s.byGid[index] ? location.id : location.name, ...(authority ? { authority } : {}) }];
        });
        const bundlesCsv = s.bundles
          ? [
              'bundle_sku,component_sku,quantity',
              ...s.bundles.b1.map((c) => `B1,${c.sku},${c.quantity}`),
              ...s.bundles.b2.map((c) => `B2,${c.sku},${c.quantity}`),
            ].join('\n') + '\n'
          : undefined;
        const config = ws.config(
          { locations, safetyStock: s.safety, authority: s.authority, shopifyCommitted: s.shopifyCommitted, unknownSkus: s.unknownSkus },
          bundlesCsv,
        );
        ws.erp(s.erp.map((r): ErpLine => ({ ...r, category: s.skuCategory[ERP_SKUS.indexOf(r.sku)] ?? null })));
        ws.shopify({ locations: LOCATIONS, items: s.items.map((sku, i) => ({ id: ITEM(i + 1), sku })), levels: shopLevels(s) });
        ws.db.exec('DELETE FROM reconciled_levels');
        for (const b of s.bases) ws.base(b.sku, LOC(b.location + 1), b.erp, b.shopify);

        const result = ws.diff(config, { all: true });
        const actual = new Map(
          result.rows.map((r) => [
            r.kind === 'shopify-only' ? `${r.sku}@${r.locationId}@${r.inventoryItemId}` : `${r.sku}@${r.locationId}`,
            { target: r.target, observed: r.observed, status: r.status },
          ]),
        );
        assert.equal(actual.size, result.rows.length, 'one row per key');
        const sorted = (m: Map<string, Expected>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        assert.deepEqual(sorted(actual), sorted(reference(s)));
        for (const row of result.rows) {
          // The target is never negative; a delta is target − observed.
          if (row.target !== null) assert.ok(row.target >= 0, `${row.sku}: target ${row.target}`);
          assert.equal(row.delta, row.target === null || row.observed === null ? null : row.target - row.observed);
          if (row.erp) assert.ok(row.erp.available >= 0);
        }
      }),
      { numRuns: 100 },
    );
  });
});
