import type { ErpColumn } from '../../config/schema.js';

import type { ErpRow } from '../../store/erp-snapshots.js';

// The row sources produce is the row the store keeps.
export type { ErpRow };

/** A problem with one field of one record; the source adds where the record came from. */
export interface FieldProblem {
  column: ErpColumn;
  message: string;
}

/** Shopify refuses quantities outside ±1,000,000,000; an ERP figure beyond it is surely wrong. */
export const MAX_QUANTITY = 1_000_000_000;
/** Shopify's own limit on a SKU; a longer one is a broken export (a field swallowed the rest of the file). */
export const MAX_TEXT_LENGTH = 255;

/** How the export writes quantities. Unset: digits only, and "1.000" in a ";" file is ambiguous. */
export interface NumberFormat {
  decimal?: '.' | ',';
  thousands?: 'none' | ',' | '.' | ' ' | "'";
  /** The export's field delimiter: in a ";" file, "1.000" is more likely one thousand than one. */
  delimiter?: string;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A whole-number pattern for one number format: sign, digits (grouped by 3 when a separator is set), zero decimals. */
function integralPattern(format: NumberFormat): RegExp {
  const decimal = escapeRe(format.decimal ?? '.');
  const thousands = format.thousands && format.thousands !== 'none' ? escapeRe(format.thousands) : undefined;
  const digits = thousands ? `(?:\\d{1,3}(?:${thousands}\\d{3})+|\\d+)` : '\\d+';
  return new RegExp(`^[+-]?${digits}(?:${decimal}0*)?$`);
}

const patterns = new Map<string, RegExp>();
function patternFor(format: NumberFormat): RegExp {
  const key = `${format.decimal ?? '.'}|${format.thousands ?? 'none'}`;
  let pattern = patterns.get(key);
  if (!pattern) patterns.set(key, (pattern = integralPattern(format)));
  return pattern;
}

const DOT_GROUPED = /^[+-]?\d{1,3}(?:\.\d{3})+$/;

export function parseQuantity(raw: unknown, column: ErpColumn, problems: FieldProblem[], fallback: number | null, format: NumberFormat = {}): number | null {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    if (fallback === null && column === 'on_hand') problems.push({ column, message: 'is empty; expected a whole number' });
    return fallback;
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    problems.push({ column, message: `expected a whole number, got ${describeValue(raw)}` });
    return fallback;
  }
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) {
      problems.push({ column, message: `expected a whole number, got ${raw}` });
      return fallback;
    }
    return checkRange(raw, String(raw), column, problems, fallback);
  }
  const text = raw.trim();
  // "1.000" with ";" as delimiter: European exports mean one thousand; without a stated format, refuse to guess.
  if (format.decimal === undefined && format.thousands === undefined && format.delimiter === ';' && DOT_GROUPED.test(text)) {
    problems.push({
      column,
      message: `${shortText(text)} is ambiguous: one thousand-style grouping or a decimal point? set erp.csv.thousands (e.g. ".") or erp.csv.decimal`,
    });
    return fallback;
  }
  if (!patternFor(format).test(text)) {
    problems.push({ column, message: `expected a whole number, got ${shortText(text)}` });
    return fallback;
  }
  const decimal = format.decimal ?? '.';
  const integral = text.split(decimal)[0]!;
  const digits = format.thousands && format.thousands !== 'none' ? integral.split(format.thousands).join('') : integral;
  return checkRange(Number.parseInt(digits, 10), text, column, problems, fallback);
}

function checkRange(value: number, text: string, column: ErpColumn, problems: FieldProblem[], fallback: number | null): number | null {
  if (value < 0) {
    problems.push({ column, message: `must not be negative, got ${value}` });
    return fallback;
  }
  if (value > MAX_QUANTITY) {
    problems.push({ column, message: `is beyond ${MAX_QUANTITY.toLocaleString('en-US')}, got ${shortText(text)}` });
    return fallback;
  }
  return value;
}

/** A value for a message: quoted, and cut short (a 10 MB field must not make a 10 MB error). */
export function shortText(text: string, max = 60): string {
  return text.length <= max ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, max))}… (${text.length} characters)`;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${shortText(String(value))}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators: never part of a code, always a broken export.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * A text field: strings (and numbers, which some APIs send for numeric SKUs) only, trimmed, in Unicode
 * NFC so that an "É" typed as one code point or as "E" + accent is the same SKU on both sides.
 */
export function cleanText(raw: unknown, column: ErpColumn, problems: FieldProblem[], required: boolean): string {
  if (raw === undefined || raw === null) {
    if (required) problems.push({ column, message: 'is empty' });
    return '';
  }
  if (typeof raw !== 'string' && !(typeof raw === 'number' && Number.isFinite(raw))) {
    problems.push({ column, message: `expected text, got ${describeValue(raw)}` });
    return '';
  }
  const text = String(raw).trim().normalize('NFC');
  if (text === '') {
    if (required) problems.push({ column, message: 'is empty' });
    return '';
  }
  const control = CONTROL.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    problems.push({ column, message: `contains a control character (U+${code}) at character ${control.index + 1}: ${shortText(text)}` });
  } else if (text.includes('\uFFFD')) {
    problems.push({ column, message: `contains U+FFFD (a replacement character: text that was not valid UTF-8 somewhere before): ${shortText(text)}` });
  } else if (text.length > MAX_TEXT_LENGTH) {
    problems.push({ column, message: `is ${text.length} characters long; at most ${MAX_TEXT_LENGTH} (a quote left open?): ${shortText(text)}` });
  }
  return text;
}

/** Validates one record whose fields are already picked by ERP column; shared by the CSV and API sources. */
export function normalizeErpRecord(fields: Partial<Record<ErpColumn, unknown>>, format: NumberFormat = {}): { row: ErpRow | null; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const sku = cleanText(fields.sku, 'sku', problems, true);
  const warehouse = cleanText(fields.warehouse, 'warehouse', problems, true);
  const onHand = parseQuantity(fields.on_hand, 'on_hand', problems, null, format);
  const reserved = parseQuantity(fields.reserved, 'reserved', problems, 0, format);
  const incoming = parseQuantity(fields.incoming, 'incoming', problems, 0, format);
  const safetyStock = parseQuantity(fields.safety_stock, 'safety_stock', problems, null, format);
  const category = cleanText(fields.category, 'category', problems, false);
  if (problems.length > 0 || onHand === null) return { row: null, problems };
  return {
    row: { sku, warehouse, onHand, reserved: reserved ?? 0, incoming: incoming ?? 0, safetyStock, category: category === '' ? null : category },
    problems,
  };
}
