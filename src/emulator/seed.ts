// The emulator's seed: the shop it starts with (the --seed file format of docs/emulator.md), loaded from JSON or generated.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parse as parseJsonText, type ParseError } from 'jsonc-parser';
import { SeedError } from './errors.js';

/** Every quantity name InventoryLevel.quantities(names:) can read, in Shopify's spelling. */
export const QUANTITY_NAMES = ['available', 'on_hand', 'committed', 'reserved', 'incoming', 'damaged', 'safety_stock', 'quality_control'] as const;
export type QuantityName = (typeof QUANTITY_NAMES)[number];

/** The states on_hand is made of besides available: committed plus the "unavailable" ones (incoming is not on hand). */
export const ON_HAND_PARTS = ['available', 'committed', 'reserved', 'damaged', 'safety_stock', 'quality_control'] as const satisfies readonly QuantityName[];

const quantity = z.number().int().min(-2_000_000_000).max(2_000_000_000);

const seedLevelSchema = z
  .object({
    locationId: z.string().min(1),
    available: quantity.optional(),
    on_hand: quantity.optional(),
    committed: quantity.optional(),
    reserved: quantity.optional(),
    incoming: quantity.optional(),
    damaged: quantity.optional(),
    safety_stock: quantity.optional(),
    quality_control: quantity.optional(),
  })
  .strict();

const seedItemSchema = z
  .object({
    sku: z.string().nullable().optional(),
    inventoryItemId: z.string().regex(/^gid:\/\/shopify\/InventoryItem\/[^/?#\s]+$/, 'expected gid://shopify/InventoryItem/<id>'),
    /** InventoryItem.tracked (default true): an untracked item's quantities are not moved by sales or by the API. */
    tracked: z.boolean().optional(),
    levels: z.array(seedLevelSchema).default([]),
  })
  .strict();

const seedLocationSchema = z
  .object({
    id: z.string().regex(/^gid:\/\/shopify\/Location\/[^/?#\s]+$/, 'expected gid://shopify/Location/<id>'),
    name: z.string().min(1),
    /** Location.isActive (default true): a deactivated location is hidden from locations() and refuses writes. */
    isActive: z.boolean().optional(),
  })
  .strict();

const seedMetafieldSchema = z
  .object({
    namespace: z.string().min(1),
    key: z.string().min(1),
    type: z.string().min(1),
    value: z.string(),
  })
  .strict();

const seedShopSchema = z
  .object({
    id: z
      .string()
      .regex(/^gid:\/\/shopify\/Shop\/[^/?#\s]+$/, 'expected gid://shopify/Shop/<id>')
      .optional(),
    name: z.string().min(1).optional(),
    myshopifyDomain: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, 'expected <name>.myshopify.com')
      .optional(),
    metafields: z.array(seedMetafieldSchema).optional(),
  })
  .strict();

export const seedSchema = z
  .object({
    shop: seedShopSchema.optional(),
    locations: z.array(seedLocationSchema),
    items: z.array(seedItemSchema),
  })
  .strict();

export type Seed = z.input<typeof seedSchema>;
export type SeedLocation = z.input<typeof seedLocationSchema>;
export type SeedItem = z.input<typeof seedItemSchema>;
export type SeedLevel = z.input<typeof seedLevelSchema>;
export type SeedShop = z.input<typeof seedShopSchema>;
export type SeedMetafield = z.input<typeof seedMetafieldSchema>;

/** What startEmulator accepts: a Seed, or the same shape with items as any iterable (a generator, for big shops). */
export interface SeedSource {
  shop?: SeedShop;
  locations: SeedLocation[];
  items: Iterable<SeedItem>;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out || '(root)';
}

/** Validates a parsed seed; throws SeedError naming every bad path (source names the file in messages). */
export function parseSeed(value: unknown, source = 'seed'): Seed {
  const result = seedSchema.safeParse(value);
  if (!result.success) {
    const details = result.error.issues.slice(0, 20).map((issue) => `${source}: ${formatPath(issue.path)}: ${issue.message}`);
    if (result.error.issues.length > 20) details.push(`… and ${result.error.issues.length - 20} more`);
    throw new SeedError(`invalid emulator seed ${source}`, details);
  }
  return value as Seed;
}

/** Offset of the first JSON syntax error (V8's messages do not always carry a position). */
export function jsonErrorOffset(text: string): number {
  const errors: ParseError[] = [];
  parseJsonText(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return errors[0]?.offset ?? 0;
}

/** Reads and validates a seed file (JSON). Errors name the file, and the line and column of a syntax error. */
export function loadSeed(path: string): Seed {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SeedError(`cannot read emulator seed ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const offset = jsonErrorOffset(text);
    const before = text.slice(0, offset).split('\n');
    const where = `:${before.length}:${before[before.length - 1]!.length + 1}`;
    throw new SeedError(`emulator seed ${path}${where} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseSeed(value, path);
}

export interface GenerateSeedOptions {
  /** Number of inventory items. */
  items: number;
  /** Number of locations; every item is stocked at every location. */
  locations: number;
  /** RNG seed for the quantities (same seed, same shop). */
  seed?: number;
}

/** A small, fast, seedable PRNG (mulberry32): reproducible shops and faults. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generatedLocations(count: number): SeedLocation[] {
  return Array.from({ length: count }, (_, i) => ({ id: `gid://shopify/Location/${1000 + i + 1}`, name: `Location ${String(i + 1).padStart(3, '0')}` }));
}

/**
 * Yields the generated items one by one, so a big shop never exists as one JSON tree:
 * SKUs `SKU-0000001`…, ids from gid://shopify/InventoryItem/1000001, quantities from the seeded RNG.
 */
export function* generateSeedItems(options: GenerateSeedOptions): Generator<SeedItem> {
  const rng = createRng(options.seed ?? 1);
  const locations = generatedLocations(options.locations);
  const width = Math.max(7, String(options.items).length);
  for (let i = 0; i < options.items; i++) {
    const levels: SeedLevel[] = locations.map((location) => {
      const available = Math.floor(rng() * 50);
      const committed = rng() < 0.2 ? Math.floor(rng() * 5) : 0;
      return { locationId: location.id, available, committed, on_hand: available + committed };
    });
    yield { sku: `SKU-${String(i + 1).padStart(width, '0')}`, inventoryItemId: `gid://shopify/InventoryItem/${1_000_000 + i + 1}`, levels };
  }
}

/** A generated shop as a SeedSource: items is re-iterable and lazy (memory stays flat for 1,000,000 levels). */
export function generateSeedSource(options: GenerateSeedOptions): SeedSource {
  return { locations: generatedLocations(options.locations), items: { [Symbol.iterator]: () => generateSeedItems(options) } };
}

/** A generated shop as a plain Seed (arrays): handy for small shops in tests; use generateSeedSource for big ones. */
export function generateSeed(options: GenerateSeedOptions): Seed {
  return { locations: generatedLocations(options.locations), items: [...generateSeedItems(options)] };
}

/** Parses `ITEMSxLOCATIONS` (e.g. `100000x10`) as given to --generate. */
export function parseGenerateSpec(spec: string): { items: number; locations: number } {
  const match = /^(\d+)x(\d+)$/i.exec(spec.trim());
  if (!match) throw new SeedError(`--generate: expected ITEMSxLOCATIONS such as 100000x10, got ${JSON.stringify(spec)}`);
  const items = Number(match[1]);
  const locations = Number(match[2]);
  if (locations < 1 || locations > 1000) throw new SeedError(`--generate: locations must be between 1 and 1000, got ${locations}`);
  if (items * locations > 20_000_000) throw new SeedError(`--generate: at most 20,000,000 levels, got ${items * locations}`);
  return { items, locations };
}
