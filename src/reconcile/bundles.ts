import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { InputError } from '../errors.js';
import { normalizeHeader } from '../sources/erp/csv.js';

export interface BundleComponent {
  sku: string;
  quantity: number;
}

/** bundle SKU -> its components, in file order. */
export type BundleMap = Map<string, BundleComponent[]>;

/** Reads bundles.csv (bundle_sku, component_sku, quantity) and rejects bad rows, repeats and cycles. */
export function readBundles(path: string): BundleMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`${path}: cannot read the bundle file (bundles.csv in config): ${(error as Error).message}`);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      delimiter: [',', ';', '\t'],
    }) as unknown as typeof records;
  } catch (error) {
    throw new InputError(`${path}: malformed CSV: ${(error as Error).message}`);
  }
  const header = records.shift();
  if (!header) return new Map();
  const at = (name: string) => header.record.findIndex((h) => normalizeHeader(h) === normalizeHeader(name));
  const columns = { bundle: at('bundle_sku'), component: at('component_sku'), quantity: at('quantity') };
  const missing = Object.entries({ bundle_sku: columns.bundle, component_sku: columns.component, quantity: columns.quantity })
    .filter(([, i]) => i < 0)
    .map(([name]) => name);
  if (missing.length)
    throw new InputError(`${path}:1: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (expected bundle_sku,component_sku,quantity)`);

  const errors: string[] = [];
  const bundles: BundleMap = new Map();
  const seen = new Map<string, number>();
  for (const { record, info } of records) {
    const line = info.lines;
    const bundle = (record[columns.bundle] ?? '').trim();
    const component = (record[columns.component] ?? '').trim();
    const quantityText = (record[columns.quantity] ?? '').trim();
    if (!bundle) errors.push(`${path}:${line}:${columns.bundle + 1}: bundle_sku is empty`);
    if (!component) errors.push(`${path}:${line}:${columns.component + 1}: component_sku is empty`);
    if (!/^\d+$/.test(quantityText) || Number(quantityText) < 1) {
      errors.push(`${path}:${line}:${columns.quantity + 1}: quantity expected a whole number ≥ 1, got ${JSON.stringify(quantityText)}`);
    }
    if (!bundle || !component) continue;
    if (bundle === component) errors.push(`${path}:${line}: bundle ${JSON.stringify(bundle)} lists itself as a component`);
    const key = `${bundle}\u0000${component}`;
    if (seen.has(key)) errors.push(`${path}:${line}: component ${JSON.stringify(component)} of bundle ${JSON.stringify(bundle)} repeats line ${seen.get(key)}`);
    seen.set(key, line);
    const list = bundles.get(bundle) ?? [];
    list.push({ sku: component, quantity: Number(quantityText) });
    bundles.set(bundle, list);
  }
  const cycle = findCycle(bundles);
  if (cycle) errors.push(`${path}: bundles form a cycle: ${cycle.join(' -> ')}`);
  if (errors.length) throw new InputError(`${path}: ${errors.length} bad bundle row${errors.length > 1 ? 's' : ''}`, errors);
  return bundles;
}

/** A path of bundle SKUs that returns to its start, or undefined. */
export function findCycle(bundles: BundleMap): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (sku: string): string[] | undefined => {
    if (state.get(sku) === 'done') return undefined;
    if (state.get(sku) === 'visiting') return [...stack.slice(stack.indexOf(sku)), sku];
    state.set(sku, 'visiting');
    stack.push(sku);
    for (const component of bundles.get(sku) ?? []) {
      if (!bundles.has(component.sku)) continue;
      const cycle = visit(component.sku);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(sku, 'done');
    return undefined;
  };
  for (const sku of bundles.keys()) {
    const cycle = visit(sku);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Bundles ordered so that a bundle comes after every bundle it contains (the map has no cycles). */
export function bundleOrder(bundles: BundleMap): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visit = (sku: string) => {
    if (done.has(sku)) return;
    done.add(sku);
    for (const component of bundles.get(sku) ?? []) if (bundles.has(component.sku)) visit(component.sku);
    order.push(sku);
  };
  for (const sku of bundles.keys()) visit(sku);
  return order;
}

/**
 * A bundle's availability at one location: the minimum over its components of
 * floor(component available / quantity per bundle), less the bundle's own safety stock, never below 0.
 * A component whose availability is null does not limit the bundle (an untracked item the ERP does not
 * list: a service); with no component that limits it, the availability is null (unknown, not 0).
 */
export function bundleAvailable(
  components: readonly BundleComponent[],
  componentAvailable: (sku: string) => number | null,
  bundleSafetyStock = 0,
): {
  available: number | null;
  limitedBy: string | null;
} {
  let best = Number.POSITIVE_INFINITY;
  let limitedBy: string | null = null;
  for (const component of components) {
    const available = componentAvailable(component.sku);
    if (available === null) continue;
    const capacity = Math.floor(available / component.quantity);
    if (capacity < best) {
      best = capacity;
      limitedBy = component.sku;
    }
  }
  if (!Number.isFinite(best)) return { available: null, limitedBy: null };
  return { available: Math.max(0, best - bundleSafetyStock), limitedBy };
}
