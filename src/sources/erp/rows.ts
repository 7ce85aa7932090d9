import type { ErpColumn } from '../../config/schema.js';

/** One normalized ERP row: a SKU's stock in one warehouse. */
export interface ErpRow {
  sku: string;
  warehouse: string;
  onHand: number;
  reserved: number;
  incoming: number;
  /** null: the export has no value here, so config rules decide. */
  safetyStock: number | null;
  category: string | null;
}

/** A problem with one field of one record; the source adds where the record came from. */
export interface FieldProblem {
  column: ErpColumn;
  message: string;
}

/** Shopify refuses quantities outside ±1,000,000,000; an ERP figure beyond it is surely wrong. */
export const MAX_QUANTITY = 1_000_000_000;

const INTEGRAL = /^[+-]?\d+(?:\.0*)?$/;

export function parseQuantity(raw: string | number | null | undefined, column: ErpColumn, problems: FieldProblem[], fallback: number | null): number | null {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    if (fallback === null && column === 'on_hand') problems.push({ column, message: 'is empty; expected a whole number' });
    return fallback;
  }
  const text = typeof raw === 'number' ? String(raw) : raw.trim();
  if (!INTEGRAL.test(text) || (typeof raw === 'number' && !Number.isInteger(raw))) {
    problems.push({ column, message: `expected a whole number, got ${JSON.stringify(typeof raw === 'number' ? raw : raw.trim())}` });
    return fallback;
  }
  const value = Number.parseInt(text, 10);
  if (value < 0) {
    problems.push({ column, message: `must not be negative, got ${value}` });
    return fallback;
  }
  if (value > MAX_QUANTITY) {
    problems.push({ column, message: `is beyond ${MAX_QUANTITY.toLocaleString('en-US')}, got ${text}` });
    return fallback;
  }
  return value;
}

function requiredText(raw: unknown, column: ErpColumn, problems: FieldProblem[]): string {
  const text = raw === undefined || raw === null ? '' : String(raw).trim();
  if (text === '') problems.push({ column, message: 'is empty' });
  return text;
}

/** Validates one record whose fields are already picked by ERP column; shared by the CSV and API sources. */
export function normalizeErpRecord(fields: Partial<Record<ErpColumn, string | number | null>>): { row: ErpRow | null; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const sku = requiredText(fields.sku, 'sku', problems);
  const warehouse = requiredText(fields.warehouse, 'warehouse', problems);
  const onHand = parseQuantity(fields.on_hand, 'on_hand', problems, null);
  const reserved = parseQuantity(fields.reserved, 'reserved', problems, 0);
  const incoming = parseQuantity(fields.incoming, 'incoming', problems, 0);
  const safetyStock = parseQuantity(fields.safety_stock, 'safety_stock', problems, null);
  const categoryText = fields.category === undefined || fields.category === null ? '' : String(fields.category).trim();
  if (problems.length > 0 || onHand === null) return { row: null, problems };
  return {
    row: { sku, warehouse, onHand, reserved: reserved ?? 0, incoming: incoming ?? 0, safetyStock, category: categoryText === '' ? null : categoryText },
    problems,
  };
}
