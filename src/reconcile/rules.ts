import type { Authority, Config } from '../config/schema.js';
import { signed } from '../text.js';
import { add, and, cases, coalesce, eq, evaluate, gt, isNull, lt, max0, ne, not, notNull, or, ref, sub, type Expr, type Value } from './expr.js';

// The inventory rules, each written once as an expression over named inputs. diff.ts renders them into
// its set-based SQL (toSql); the functions below evaluate the same expressions for one level (bundles,
// a single event). The property test checks both against its own independent reading of the rules.

export type SafetySource = 'erp' | 'bySku' | 'byCategory' | 'byLocation' | 'default';
export type AuthoritySource = 'category' | 'location' | 'default';

/** available = on_hand − reserved − safety stock (− Shopify's committed when the ERP has not seen those orders), never below 0. */
const RAW_AVAILABLE = sub(sub(sub(ref('on_hand'), ref('reserved')), ref('safety')), ref('committed'));
export const AVAILABLE = max0(RAW_AVAILABLE);
/** The formula went below 0 (reserved or safety stock beyond on hand): worth saying. */
export const CLAMPED = lt(RAW_AVAILABLE, 0);

/** The first of `order`'s inputs that is set, and the name of the rule it came from (the last never unset). */
function mostSpecific(order: readonly [source: string, input: string][]): { value: Expr; source: Expr } {
  return {
    value: coalesce(...order.map(([, input]) => ref(input))),
    source: cases(
      order.slice(0, -1).map(([source, input]) => [notNull(ref(input)), source]),
      order.at(-1)![0],
    ),
  };
}

/**
 * Safety stock for one SKU at one location, most specific first: the ERP's own column where the export has
 * one there (summed over pooled warehouses), then bySku > byCategory > byLocation > default.
 */
const safety = mostSpecific([
  ['erp', 'erp_safety'],
  ['bySku', 'sku_safety'],
  ['byCategory', 'category_safety'],
  ['byLocation', 'location_safety'],
  ['default', 'default_safety'],
] satisfies [SafetySource, string][]);
export const SAFETY = safety.value;
export const SAFETY_SOURCE = safety.source;

/** Who decides a level: the SKU's category rule, then the location's, then the default. */
const authority = mostSpecific([
  ['category', 'category_authority'],
  ['location', 'location_authority'],
  ['default', 'default_authority'],
] satisfies [AuthoritySource, string][]);
export const AUTHORITY = authority.value;
export const AUTHORITY_SOURCE = authority.source;

/**
 * Whether Shopify can take a target for the level at all (n_items: Shopify items with the SKU; observed: its
 * available there). A level at a deactivated location (location_active 0) or of an item whose quantities
 * Shopify does not track (tracked 0) is left out: nothing is written there, and it is no drift. Both come
 * before `not-stocked`: a closed store usually has no levels left (Shopify makes you move its stock out), and
 * telling the merchant to stock an item where it cannot be stocked is wrong. `not-in-shopify` and
 * `ambiguous-sku` stay first: `tracked` means something only for a single item.
 */
export const PRESENCE = cases(
  [
    [isNull(ref('n_items')), 'not-in-shopify'],
    [gt(ref('n_items'), 1), 'ambiguous-sku'],
    [eq(ref('location_active'), 0), 'inactive-location'],
    [eq(ref('tracked'), 0), 'untracked'],
    [isNull(ref('observed')), 'not-stocked'],
  ],
  'pending',
);
/** A level Shopify does not have, with nothing to sell there, is not worth a line (left out or not). */
export const WORTH_A_LINE = not(
  and(
    or(eq(ref('presence'), 'not-stocked'), eq(ref('presence'), 'inactive-location'), eq(ref('presence'), 'untracked')),
    isNull(ref('observed')),
    eq(ref('erp_available'), 0),
  ),
);

/**
 * Orders Shopify took since the base: the growth of its committed (committed_base: at the base's Shopify
 * snapshot; unknown there, none). The ERP's figure carries them too (in its reserved, or by the subtracted
 * committed): the merge adds them back once, or every sale would be counted twice.
 */
export const ORDERS = max0(sub(coalesce(ref('committed_now'), 0), coalesce(ref('committed_base'), ref('committed_now'), 0)));

/**
 * Hybrid authority: both sides change. From the last reconciled base, Shopify keeps its own moves (sales)
 * and takes the ERP's (receipts, counts): target = observed + ΔERP + orders. When both moved and the merge
 * cannot hold (it would go below 0), that is a conflict for a person, not a guess.
 */
export const MERGED = add(add(ref('observed'), sub(ref('erp_available'), ref('base_erp'))), ref('orders'));
const HYBRID = and(eq(ref('authority'), 'hybrid'), notNull(ref('base_erp')));
export const CONFLICT = and(HYBRID, lt(MERGED, 0), ne(ref('erp_available'), ref('base_erp')), ne(ref('observed'), ref('base_shopify')));

/**
 * Target and status of a level from its authority. `withBase: false` leaves the hybrid merge out, for a
 * diff with no reconciled base at all (the merge then never applies, and the SQL stays lean).
 */
export function decision(withBase = true): { target: Expr; status: Expr } {
  const pending = eq(ref('presence'), 'pending');
  const target = withBase
    ? cases(
        [
          [or(not(pending), eq(ref('authority'), 'shopify')), ref('erp_available')],
          [CONFLICT, null],
          [HYBRID, max0(MERGED)],
        ],
        ref('erp_available'),
      )
    : ref('erp_available');
  const status = cases(
    [
      [not(pending), ref('presence')],
      [eq(ref('authority'), 'shopify'), cases([[eq(ref('erp_available'), ref('observed')), 'ok']], 'erp-correction')],
      ...(withBase
        ? ([
            [CONFLICT, 'conflict'],
            [HYBRID, cases([[eq(max0(MERGED), ref('observed')), 'ok']], 'change')],
          ] as [Expr, Expr | string][])
        : []),
      [eq(ref('erp_available'), ref('observed')), 'ok'],
    ],
    'change',
  );
  return { target, status };
}

const DECISION = decision();

export interface LevelInput {
  /** Shopify items with this SKU (null: none). */
  nItems: number | null;
  /** Whether Shopify tracks the item's quantities (null: no single item). */
  tracked: boolean | null;
  /** Whether the Shopify location is active. */
  locationActive: boolean;
  /** Shopify's available there (null: not stocked, or no single item). */
  observed: number | null;
  /** What the ERP's numbers say can be sold there. */
  erpAvailable: number;
  authority: Authority;
  /** Shopify's committed there now. */
  committed: number | null;
  /** The last reconciled base: both sides' available, and Shopify's committed then. */
  base: { erp: number; shopify: number; committed: number | null } | undefined;
}

/** Target and status of one level (and the orders the merge added back); `worth` is false for a row the diff leaves out. */
export function decideLevel(level: LevelInput): { target: number | null; status: string; worth: boolean; orders: number | null } {
  const row: Record<string, Value> = {
    n_items: level.nItems,
    tracked: level.tracked === null ? null : level.tracked ? 1 : 0,
    location_active: level.locationActive ? 1 : 0,
    observed: level.observed,
    erp_available: level.erpAvailable,
    authority: level.authority,
    base_erp: level.base?.erp ?? null,
    base_shopify: level.base?.shopify ?? null,
    orders: level.base ? evaluate(ORDERS, { committed_now: level.committed, committed_base: level.base.committed }) : null,
  };
  row.presence = evaluate(PRESENCE, row);
  return {
    orders: row.orders as number | null,
    target: evaluate(DECISION.target, row) as number | null,
    status: evaluate(DECISION.status, row) as string,
    worth: evaluate(WORTH_A_LINE, row) === true,
  };
}

export function availableQuantity(onHand: number, reserved: number, safetyStock: number, shopifyCommitted = 0): { available: number; clamped: boolean } {
  const row = { on_hand: onHand, reserved, safety: safetyStock, committed: shopifyCommitted };
  return { available: evaluate(AVAILABLE, row) as number, clamped: evaluate(CLAMPED, row) === true };
}

export interface SafetyRules {
  default: number;
  byLocation: Readonly<Record<string, number>>;
  byCategory: Readonly<Record<string, number>>;
  bySku: Readonly<Record<string, number>>;
}

const own = <T>(record: Readonly<Record<string, T>>, key: string | null): T | null => (key !== null && Object.hasOwn(record, key) ? record[key]! : null);

export function resolveSafetyStock(
  rules: SafetyRules,
  sku: string,
  category: string | null,
  locationName: string,
  erpSafetyStock: number | null,
): { quantity: number; source: SafetySource } {
  const row = {
    erp_safety: erpSafetyStock,
    sku_safety: own(rules.bySku, sku),
    category_safety: own(rules.byCategory, category),
    location_safety: own(rules.byLocation, locationName),
    default_safety: rules.default,
  };
  return { quantity: evaluate(SAFETY, row) as number, source: evaluate(SAFETY_SOURCE, row) as SafetySource };
}

export function resolveAuthority(
  config: Pick<Config, 'authority'>,
  category: string | null,
  locationAuthority: Authority | undefined,
): { authority: Authority; source: AuthoritySource } {
  const row = {
    category_authority: own(config.authority.byCategory, category),
    location_authority: locationAuthority ?? null,
    default_authority: config.authority.default,
  };
  return { authority: evaluate(AUTHORITY, row) as Authority, source: evaluate(AUTHORITY_SOURCE, row) as AuthoritySource };
}

export type HybridOutcome =
  | { kind: 'merged'; target: number; erpDelta: number; shopifyDelta: number }
  | { kind: 'conflict'; merged: number; erpDelta: number; shopifyDelta: number; reason: string }
  | { kind: 'no-base' };

/** The hybrid merge of one level, with the deltas that explain it (`orders`: see ORDERS). */
export function mergeHybrid(base: { erp: number; shopify: number } | undefined, erpNow: number, shopifyNow: number, orders = 0): HybridOutcome {
  if (!base) return { kind: 'no-base' };
  const row = { authority: 'hybrid', observed: shopifyNow, erp_available: erpNow, base_erp: base.erp, base_shopify: base.shopify, orders };
  const erpDelta = erpNow - base.erp;
  const shopifyDelta = shopifyNow - base.shopify;
  const merged = evaluate(MERGED, row) as number;
  if (evaluate(CONFLICT, row) === true) {
    return {
      kind: 'conflict',
      merged,
      erpDelta,
      shopifyDelta,
      reason: `both sides moved (ERP ${signed(erpDelta)}, Shopify ${signed(shopifyDelta)}) and the merge would be ${merged}`,
    };
  }
  return { kind: 'merged', target: evaluate(DECISION.target, { ...row, presence: 'pending' }) as number, erpDelta, shopifyDelta };
}
