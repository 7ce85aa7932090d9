import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availableQuantity, mergeHybrid, resolveAuthority, resolveSafetyStock } from '../../../src/reconcile/rules.js';
import { signed } from '../../../src/text.js';

const rules = {
  default: 1,
  byLocation: { Store: 4 },
  byCategory: { apparel: 3 },
  bySku: { 'TEE-1': 2 },
};

describe('availableQuantity', () => {
  it('is on hand − reserved − safety', () => {
    assert.deepEqual(availableQuantity(10, 2, 3), { available: 5, clamped: false });
    assert.deepEqual(availableQuantity(5, 2, 3), { available: 0, clamped: false });
  });
  it('never goes below 0, and says so when it clamps', () => {
    assert.deepEqual(availableQuantity(3, 5, 0), { available: 0, clamped: true });
    assert.deepEqual(availableQuantity(0, 0, 1), { available: 0, clamped: true });
  });
  it("subtracts Shopify's committed only when asked", () => {
    assert.deepEqual(availableQuantity(10, 2, 1, 3), { available: 4, clamped: false });
    assert.deepEqual(availableQuantity(10, 2, 1, 8), { available: 0, clamped: true });
  });
});

describe('resolveSafetyStock', () => {
  it('takes the ERP column over every config rule, even 0', () => {
    assert.deepEqual(resolveSafetyStock(rules, 'TEE-1', 'apparel', 'Store', 7), { quantity: 7, source: 'erp' });
    assert.deepEqual(resolveSafetyStock(rules, 'TEE-1', 'apparel', 'Store', 0), { quantity: 0, source: 'erp' });
  });
  it('then bySku > byCategory > byLocation > default', () => {
    assert.deepEqual(resolveSafetyStock(rules, 'TEE-1', 'apparel', 'Store', null), { quantity: 2, source: 'bySku' });
    assert.deepEqual(resolveSafetyStock(rules, 'TEE-2', 'apparel', 'Store', null), { quantity: 3, source: 'byCategory' });
    assert.deepEqual(resolveSafetyStock(rules, 'TEE-2', 'mugs', 'Store', null), { quantity: 4, source: 'byLocation' });
    assert.deepEqual(resolveSafetyStock(rules, 'TEE-2', null, 'Store', null), { quantity: 4, source: 'byLocation' });
    assert.deepEqual(resolveSafetyStock(rules, 'TEE-2', 'mugs', 'Main', null), { quantity: 1, source: 'default' });
  });
  it('keys byLocation by the Shopify location name, exactly', () => {
    assert.equal(resolveSafetyStock(rules, 'X', null, 'store', null).source, 'default');
  });
  it('does not read inherited object keys as rules', () => {
    assert.deepEqual(resolveSafetyStock(rules, 'constructor', 'toString', 'hasOwnProperty', null), { quantity: 1, source: 'default' });
  });
});

describe('resolveAuthority', () => {
  const config = { authority: { default: 'erp' as const, byCategory: { 'pos-only': 'shopify' as const, seasonal: 'hybrid' as const } } };
  it('lets the category win over the location', () => {
    assert.deepEqual(resolveAuthority(config, 'pos-only', 'hybrid'), { authority: 'shopify', source: 'category' });
    assert.deepEqual(resolveAuthority(config, 'seasonal', 'erp'), { authority: 'hybrid', source: 'category' });
  });
  it('then the location, then the default', () => {
    assert.deepEqual(resolveAuthority(config, 'apparel', 'shopify'), { authority: 'shopify', source: 'location' });
    assert.deepEqual(resolveAuthority(config, null, undefined), { authority: 'erp', source: 'default' });
    assert.deepEqual(resolveAuthority({ authority: { default: 'hybrid', byCategory: {} } }, 'apparel', undefined), { authority: 'hybrid', source: 'default' });
  });
});

describe('mergeHybrid', () => {
  it('has nothing to merge without a base', () => {
    assert.deepEqual(mergeHybrid(undefined, 5, 7), { kind: 'no-base' });
  });
  it('adds both sides’ moves to the base', () => {
    // Base 10/10; the ERP received 5, Shopify sold 3: 10 + 5 − 3.
    assert.deepEqual(mergeHybrid({ erp: 10, shopify: 10 }, 15, 7), { kind: 'merged', target: 12, erpDelta: 5, shopifyDelta: -3 });
    // Only Shopify moved: keep Shopify's value.
    assert.deepEqual(mergeHybrid({ erp: 10, shopify: 10 }, 10, 4), { kind: 'merged', target: 4, erpDelta: 0, shopifyDelta: -6 });
    // Only the ERP moved: apply its move to Shopify's base.
    assert.deepEqual(mergeHybrid({ erp: 8, shopify: 10 }, 5, 10), { kind: 'merged', target: 7, erpDelta: -3, shopifyDelta: 0 });
  });
  it('reports a conflict when both moved and the merge goes negative', () => {
    // Base 5; the ERP wrote off 4 while Shopify sold 3: 5 − 4 − 3 = −2 cannot hold.
    const outcome = mergeHybrid({ erp: 5, shopify: 5 }, 1, 2);
    assert.equal(outcome.kind, 'conflict');
    assert.ok(outcome.kind === 'conflict');
    assert.equal(outcome.merged, -2);
    assert.equal(outcome.erpDelta, -4);
    assert.equal(outcome.shopifyDelta, -3);
    assert.match(outcome.reason, /ERP -4, Shopify -3.*-2/);
  });
  it('clamps a negative merge when only one side moved (no competing change)', () => {
    assert.deepEqual(mergeHybrid({ erp: 5, shopify: 2 }, 0, 2), { kind: 'merged', target: 0, erpDelta: -5, shopifyDelta: 0 });
  });
  it('signs numbers for messages', () => {
    assert.equal(signed(3), '+3');
    assert.equal(signed(0), '0');
    assert.equal(signed(-2), '-2');
  });
});
