import type { Authority, Config } from '../config/schema.js';

// The inventory rules as pure functions. The SQL in diff.ts applies the same rules set-wise; the unit
// tests check both against each other.

export type SafetySource = 'erp' | 'bySku' | 'byCategory' | 'byLocation' | 'default';

export interface SafetyRules {
  default: number;
  byLocation: Readonly<Record<string, number>>;
  byCategory: Readonly<Record<string, number>>;
  bySku: Readonly<Record<string, number>>;
}

/**
 * Safety stock for one SKU at one location: the ERP's own column where the export has one there (summed
 * over pooled warehouses), else the most specific config rule: bySku > byCategory > byLocation > default.
 */
export function resolveSafetyStock(
  rules: SafetyRules,
  sku: string,
  category: string | null,
  locationName: string,
  erpSafetyStock: number | null,
): { quantity: number; source: SafetySource } {
  if (erpSafetyStock !== null) return { quantity: erpSafetyStock, source: 'erp' };
  if (Object.hasOwn(rules.bySku, sku)) return { quantity: rules.bySku[sku]!, source: 'bySku' };
  if (category !== null && Object.hasOwn(rules.byCategory, category)) return { quantity: rules.byCategory[category]!, source: 'byCategory' };
  if (Object.hasOwn(rules.byLocation, locationName)) return { quantity: rules.byLocation[locationName]!, source: 'byLocation' };
  return { quantity: rules.default, source: 'default' };
}

/** available = on_hand − reserved − safety stock (− Shopify's committed when the ERP has not seen those orders), never below 0. */
export function availableQuantity(onHand: number, reserved: number, safetyStock: number, shopifyCommitted = 0): { available: number; clamped: boolean } {
  const raw = onHand - reserved - safetyStock - shopifyCommitted;
  return { available: Math.max(0, raw), clamped: raw < 0 };
}

/** Who decides a level: the SKU's category rule wins over the location's, then the default. */
export function resolveAuthority(config: Pick<Config, 'authority'>, category: string | null, locationAuthority: Authority | undefined): { authority: Authority; source: 'category' | 'location' | 'default' } {
  if (category !== null && Object.hasOwn(config.authority.byCategory, category)) return { authority: config.authority.byCategory[category]!, source: 'category' };
  if (locationAuthority) return { authority: locationAuthority, source: 'location' };
  return { authority: config.authority.default, source: 'default' };
}

export type HybridOutcome =
  | { kind: 'merged'; target: number; erpDelta: number; shopifyDelta: number }
  | { kind: 'conflict'; merged: number; erpDelta: number; shopifyDelta: number; reason: string }
  | { kind: 'no-base' };

/**
 * Hybrid authority: both sides change. From the last reconciled base, Shopify keeps its own moves
 * (sales) and takes the ERP's (receipts, counts): target = base + ΔERP + ΔShopify + orders (Shopify's
 * committed growth since the base, which both deltas carry). When both moved
 * and the merge cannot hold (it would go below 0), that is a conflict for a person, not a guess.
 */
export function mergeHybrid(base: { erp: number; shopify: number } | undefined, erpNow: number, shopifyNow: number, orders = 0): HybridOutcome {
  if (!base) return { kind: 'no-base' };
  const erpDelta = erpNow - base.erp;
  const shopifyDelta = shopifyNow - base.shopify;
  // Orders Shopify took since the base are in both deltas (the ERP reserves them, or has Shopify's
  // committed subtracted): add them back once, or every sale would be counted twice.
  const merged = base.shopify + erpDelta + shopifyDelta + orders;
  if (merged < 0 && erpDelta !== 0 && shopifyDelta !== 0) {
    return { kind: 'conflict', merged, erpDelta, shopifyDelta, reason: `both sides moved (ERP ${signed(erpDelta)}, Shopify ${signed(shopifyDelta)}) and the merge would be ${merged}` };
  }
  return { kind: 'merged', target: Math.max(0, merged), erpDelta, shopifyDelta };
}

export function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
