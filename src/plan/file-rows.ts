// The rows of a plan file (format 2), as the writer encodes them and the reader checks them: one compact
// JSON object a line, in three sections. Layout and rationale: docs/plan-format.md.
import { z } from 'zod';
import type { SafetySource } from '../reconcile/rules.js';

export const ITEM_ID_PREFIX = 'gid://shopify/InventoryItem/';
/** A header larger than this is not a plan header (a format 1 plan is one JSON document). */
export const MAX_HEADER_BYTES = 16 << 20;
export const CHUNK = 1 << 20;

const safetySource = z.enum(['erp', 'bySku', 'byCategory', 'byLocation', 'default']);
export const changeRow = z.object({
  sku: z.string(),
  item: z.union([z.int().min(1), z.string()]),
  loc: z.int().min(0),
  from: z.int(),
  to: z.int().min(0),
  /** The reason: [on_hand, reserved, safety, safety source, Shopify committed] for the plain ERP formula, else its text. */
  why: z.union([z.string(), z.tuple([z.int(), z.int(), z.int(), safetySource, z.int()])]),
  mode: z.literal('adjust').optional(),
  authority: z.enum(['hybrid', 'shopify']).optional(),
  /** The ERP's own available when it is not `to` (hybrid merges). */
  erp: z.int().optional(),
});
export const erpCorrectionRow = z.object({
  sku: z.string(),
  loc: z.int().min(0),
  warehouse: z.string(),
  current: z.int(),
  proposed: z.int(),
  delta: z.int(),
  reason: z.string(),
});
export const hybridBaseRow = z.object({ sku: z.string(), loc: z.int().min(0), erp: z.int(), shopify: z.int() });

export type FormulaNumbers = [onHand: number, reserved: number, safety: number, safetySource: SafetySource, committed: number];
export type SectionName = 'changes' | 'erpCorrections' | 'hybridBaseline';
export const SECTIONS: readonly SectionName[] = ['changes', 'erpCorrections', 'hybridBaseline'];

export function itemField(id: string): number | string {
  const tail = id.startsWith(ITEM_ID_PREFIX) ? id.slice(ITEM_ID_PREFIX.length) : '';
  return /^[1-9]\d{0,14}$/.test(tail) ? Number(tail) : id;
}
