// Why a row has its target: the formula and the rule, in words; and a t_diff record as a DiffRow.
import type { Authority } from '../config/schema.js';
import { type BundleMap } from './bundles.js';
import { evaluate } from './expr.js';
import { MERGED, type SafetySource } from './rules.js';
import { signed } from '../text.js';
import { type DiffRow, LEFT_OUT_STATUSES, type RowStatus } from './diff-model.js';

export interface DiffRecord {
  sku: string;
  location_id: string;
  location_name: string;
  kind: DiffRow['kind'];
  inventory_item_id: string | null;
  on_hand: number | null;
  reserved: number | null;
  safety: number | null;
  safety_source: SafetySource | null;
  committed: number | null;
  erp_available: number | null;
  clamped: number | null;
  observed: number | null;
  authority: Authority;
  base_erp: number | null;
  base_shopify: number | null;
  orders: number | null;
  category: string | null;
  status: RowStatus;
  target: number | null;
  limited_by: string | null;
}

/**
 * The ERP side of a level's reason: on_hand − reserved − safety (− committed) = available, with why it
 * was clamped. The plan stores only these numbers and rebuilds the text with this function.
 */
export function levelFormula(onHand: number, reserved: number, safety: number, safetySource: SafetySource, committed: number): string {
  const raw = onHand - reserved - safety - committed;
  const safetyLabel = safetySource === 'erp' ? 'ERP column' : `safetyStock.${safetySource}`;
  const clamp = raw >= 0 ? '' : onHand < reserved ? ' (reserved exceeds on hand: clamped to 0, check the ERP data)' : ' (clamped to 0)';
  return `on_hand ${onHand} − reserved ${reserved} − safety ${safety} (${safetyLabel})${committed ? ` − Shopify committed ${committed}` : ''} = ${Math.max(0, raw)}${clamp}`;
}

/** Orders Shopify took since the base, which the ERP's figure also carries: added back once. */
function ordersNote(r: DiffRecord): string {
  return r.orders ? ` + ${r.orders} Shopify order${r.orders === 1 ? '' : 's'} the ERP counts too` : '';
}

function erpSide(r: DiffRecord, formula: string): string {
  return r.kind === 'shopify-only' ? 'not in the ERP export' : `ERP: ${formula}`;
}

export function explain(r: DiffRecord, bundles: BundleMap): string {
  const formula =
    r.kind === 'bundle'
      ? `bundle: min over ${(bundles.get(r.sku) ?? []).map((c) => `${c.sku}/${c.quantity}`).join(', ')} = ${r.erp_available}${r.limited_by ? ` (limited by ${r.limited_by}${r.safety ? `, less safety ${r.safety}` : ''})` : ''}`
      : levelFormula(r.on_hand ?? 0, r.reserved ?? 0, r.safety ?? 0, r.safety_source ?? 'default', r.committed ?? 0);
  switch (r.status) {
    case 'not-in-shopify':
      return `not in Shopify (no item has this SKU): ${formula}`;
    case 'ambiguous-sku':
      return `several Shopify items share this SKU: not changed`;
    case 'not-stocked':
      return `item not stocked at this location in Shopify: ${formula}`;
    case 'not-in-erp':
      return 'not in the ERP export (unknownSkus: report)';
    case 'untracked':
      return `left out: Shopify does not track this item's quantities (InventoryItem.tracked false); ${erpSide(r, formula)}`;
    case 'inactive-location':
      return `left out: the Shopify location is inactive (deactivated); ${erpSide(r, formula)}`;
    case 'erp-correction':
      return `authority shopify: ERP should change by ${signed((r.observed ?? 0) - (r.erp_available ?? 0))}; ${formula}`;
    case 'conflict':
      return `hybrid conflict: base ${r.base_shopify}, ERP ${signed((r.erp_available ?? 0) - (r.base_erp ?? 0))}, Shopify ${signed((r.observed ?? 0) - (r.base_shopify ?? 0))}${ordersNote(r)} would give ${String(evaluate(MERGED, r))}`;
    default:
      break;
  }
  if (r.kind === 'shopify-only') return 'not in the ERP export (unknownSkus: zero)';
  if (r.authority === 'hybrid') {
    if (r.base_erp === null) return `hybrid, no reconciled base yet (ERP taken): ${formula}`;
    return `hybrid: Shopify ${r.observed} + ERP ${signed((r.erp_available ?? 0) - r.base_erp)} since base${ordersNote(r)} = ${r.target}; ${formula}`;
  }
  return formula;
}

export function toRow(r: DiffRecord, bundles: BundleMap): DiffRow {
  // A left-out level has no delta: nothing will be written there, whatever the two numbers say.
  const delta = r.target === null || r.observed === null || LEFT_OUT_STATUSES.includes(r.status) ? null : r.target - r.observed;
  return {
    sku: r.sku,
    locationId: r.location_id,
    locationName: r.location_name,
    inventoryItemId: r.inventory_item_id,
    target: r.target,
    observed: r.observed,
    delta,
    status: r.status,
    authority: r.authority,
    reason: explain(r, bundles),
    kind: r.kind,
    erp:
      r.kind === 'shopify-only'
        ? null
        : {
            onHand: r.on_hand ?? 0,
            reserved: r.reserved ?? 0,
            safetyStock: r.safety ?? 0,
            safetySource: r.safety_source ?? 'default',
            shopifyCommitted: r.committed ?? 0,
            available: r.erp_available ?? 0,
            clamped: r.clamped === 1,
          },
    hybrid:
      r.base_erp === null || r.base_shopify === null || r.observed === null
        ? null
        : { baseErp: r.base_erp, baseShopify: r.base_shopify, erpDelta: (r.erp_available ?? 0) - r.base_erp, shopifyDelta: r.observed - r.base_shopify },
    category: r.category,
  };
}
