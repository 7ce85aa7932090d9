// The emulated shop in memory, laid out in typed arrays so 1,000,000 levels cost tens of MB, not hundreds.
import { SeedError } from './errors.js';
import { ON_HAND_PARTS, QUANTITY_NAMES, type QuantityName, type SeedSource } from './seed.js';

export interface StoredLocation {
  id: string;
  name: string;
  isActive: boolean;
}

/** One recorded change of one quantity (emulator-only; Shopify has no such endpoint). */
export interface HistoryEntry {
  at: string;
  kind: 'set' | 'adjust' | 'sale';
  inventoryItemId: string;
  locationId: string;
  name: QuantityName;
  before: number;
  after: number;
  delta: number;
  idempotencyKey?: string;
  referenceDocumentUri?: string;
}

/**
 * One mutation's changes, column by column as it made them: row r moved `names` of item items[r] at location
 * locations[r] by deltas[r], from before[r × names.length + n]. They become HistoryEntry objects only when the
 * history is read (a million changes nobody reads cost typed arrays, not two million objects).
 */
export interface RecordedChanges {
  at: string;
  kind: 'set' | 'adjust';
  idempotencyKey: string;
  referenceDocumentUri: string | null;
  names: readonly QuantityName[];
  items: Int32Array;
  locations: Int32Array;
  deltas: Float64Array;
  before: Int32Array;
}

if (QUANTITY_NAMES.join() !== 'available,on_hand,committed,reserved,incoming,damaged,safety_stock,quality_control')
  throw new Error('store.ts assumes the order of QUANTITY_NAMES');

const NAME_INDEX = new Map<string, number>(QUANTITY_NAMES.map((name, i) => [name, i]));

export function quantityIndex(name: string): number | undefined {
  return NAME_INDEX.get(name);
}

/** A growable Int32Array: the seed's size is unknown until it has been read. */
class IntBuffer {
  data = new Int32Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  trimmed(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** The id's last path segment, e.g. "101" for gid://shopify/InventoryItem/101. */
export function gidTail(gid: string): string {
  return gid.slice(gid.lastIndexOf('/') + 1);
}

export class ShopStore {
  readonly locations: StoredLocation[];
  private readonly locationIndexById = new Map<string, number>();
  readonly itemIds: string[] = [];
  readonly itemSkus: (string | null)[] = [];
  /** Indexes of untracked items (InventoryItem.tracked false); few, so a set beats an array per item. */
  readonly untracked = new Set<number>();
  private readonly itemIndexById = new Map<string, number>();
  /** Levels of item i are levelStart[i] … levelStart[i+1]-1. */
  readonly levelStart: Int32Array;
  readonly levelLocation: Int32Array;
  /** quantities[q][level], q in QUANTITY_NAMES order. */
  readonly quantities: Int32Array[];
  private skuIndex: Map<string, number[]> | undefined;
  private levelsByLocation: Int32Array[] | undefined;
  private readonly entries: HistoryEntry[] = [];
  /** Recorded since the history was last read, in order. */
  private unread: (HistoryEntry[] | RecordedChanges)[] = [];

  constructor(seed: SeedSource) {
    this.locations = seed.locations.map((location, i) => {
      if (this.locationIndexById.has(location.id)) throw new SeedError(`emulator seed: locations[${i}].id ${location.id} appears twice`);
      this.locationIndexById.set(location.id, i);
      return { id: location.id, name: location.name, isActive: location.isActive ?? true };
    });
    const starts = new IntBuffer();
    const levelLocations = new IntBuffer();
    const buffers = QUANTITY_NAMES.map(() => new IntBuffer());
    let itemNumber = 0;
    for (const item of seed.items) {
      const where = `items[${itemNumber}]`;
      if (this.itemIndexById.has(item.inventoryItemId)) throw new SeedError(`emulator seed: ${where}.inventoryItemId ${item.inventoryItemId} appears twice`);
      this.itemIndexById.set(item.inventoryItemId, itemNumber);
      this.itemIds.push(item.inventoryItemId);
      this.itemSkus.push(item.sku ?? null);
      if (item.tracked === false) this.untracked.add(itemNumber);
      starts.push(levelLocations.length);
      const levels = item.levels ?? [];
      for (let j = 0; j < levels.length; j++) {
        const level = levels[j]!;
        const location = this.locationIndexById.get(level.locationId);
        if (location === undefined)
          throw new SeedError(`emulator seed: ${where}.levels[${j}].locationId ${level.locationId} is not one of the seed's locations`);
        // Few levels per item: a backwards scan beats a Set per item.
        for (let k = levelLocations.length - j; k < levelLocations.length; k++) {
          if (levelLocations.data[k] === location)
            throw new SeedError(`emulator seed: ${where}.levels[${j}]: item ${item.inventoryItemId} is stocked twice at ${level.locationId}`);
        }
        // Named property reads (not level[name]): a million levels stay a sub-second load.
        const { available = 0, committed = 0, reserved = 0, incoming = 0, damaged = 0, safety_stock = 0, quality_control = 0 } = level;
        const parts = available + committed + reserved + damaged + safety_stock + quality_control;
        if (level.on_hand !== undefined && level.on_hand !== parts) {
          throw new SeedError(`emulator seed: ${where}.levels[${j}].on_hand is ${level.on_hand}, but ${ON_HAND_PARTS.join(' + ')} is ${parts}`, [
            'Shopify keeps on_hand equal to that sum: give the missing states (for example committed or reserved), or leave on_hand out to have it computed',
          ]);
        }
        levelLocations.push(location);
        // Same order as QUANTITY_NAMES.
        const row = [available, parts, committed, reserved, incoming, damaged, safety_stock, quality_control];
        for (let q = 0; q < row.length; q++) buffers[q]!.push(row[q]!);
      }
      itemNumber++;
    }
    starts.push(levelLocations.length);
    this.levelStart = starts.trimmed();
    this.levelLocation = levelLocations.trimmed();
    this.quantities = buffers.map((buffer) => buffer.trimmed());
  }

  /** Every quantity change, in order: the same array each time, brought up to date when read. */
  get history(): HistoryEntry[] {
    if (this.unread.length > 0) {
      const unread = this.unread;
      this.unread = [];
      for (const batch of unread) for (const entry of Array.isArray(batch) ? batch : this.entriesOf(batch)) this.entries.push(entry);
    }
    return this.entries;
  }

  recordHistory(batch: HistoryEntry[] | RecordedChanges): void {
    this.unread.push(batch);
  }

  /** A mutation's changes as history entries, row by row, each row's names in order. */
  entriesOf(changes: RecordedChanges): HistoryEntry[] {
    const { at, kind, idempotencyKey, referenceDocumentUri, names } = changes;
    const out: HistoryEntry[] = [];
    for (let r = 0; r < changes.items.length; r++) {
      const inventoryItemId = this.itemIds[changes.items[r]!]!;
      const locationId = this.locations[changes.locations[r]!]!.id;
      const delta = changes.deltas[r]!;
      for (let n = 0; n < names.length; n++) {
        const before = changes.before[r * names.length + n]!;
        const entry: HistoryEntry = { at, kind, inventoryItemId, locationId, name: names[n]!, before, after: before + delta, delta, idempotencyKey };
        if (referenceDocumentUri) entry.referenceDocumentUri = referenceDocumentUri;
        out.push(entry);
      }
    }
    return out;
  }

  get itemCount(): number {
    return this.itemIds.length;
  }

  get levelCount(): number {
    return this.levelLocation.length;
  }

  itemIndex(id: string): number | undefined {
    return this.itemIndexById.get(id);
  }

  locationIndex(id: string): number | undefined {
    return this.locationIndexById.get(id);
  }

  /** The level of item × location, or undefined when the item is not stocked there. */
  levelIndex(item: number, location: number): number | undefined {
    for (let level = this.levelStart[item]!; level < this.levelStart[item + 1]!; level++) {
      if (this.levelLocation[level] === location) return level;
    }
    return undefined;
  }

  /** Item of a level, by binary search over levelStart (levels are grouped by item). */
  levelItem(level: number): number {
    let low = 0;
    let high = this.itemCount - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.levelStart[mid]! <= level) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** Shopify's InventoryLevel id shape: gid://shopify/InventoryLevel/<n>?inventory_item_id=<item>. */
  levelId(level: number): string {
    return `gid://shopify/InventoryLevel/${level + 1}?inventory_item_id=${gidTail(this.itemIds[this.levelItem(level)]!)}`;
  }

  get(level: number, name: QuantityName): number {
    return this.quantities[NAME_INDEX.get(name)!]![level]!;
  }

  set(level: number, name: QuantityName, value: number): void {
    this.quantities[NAME_INDEX.get(name)!]![level] = value;
  }

  levelQuantities(level: number): Record<QuantityName, number> {
    const out = {} as Record<QuantityName, number>;
    QUANTITY_NAMES.forEach((name, q) => (out[name] = this.quantities[q]![level]!));
    return out;
  }

  /** Copies the level's eight quantities (QUANTITY_NAMES order) into `into` from `at`. */
  copyQuantities(level: number, into: Int32Array, at: number): void {
    for (let q = 0; q < this.quantities.length; q++) into[at + q] = this.quantities[q]![level]!;
  }

  /** Items whose SKU is exactly sku (SKUs are case-sensitive in Shopify), in id order. */
  itemsWithSku(sku: string): number[] {
    if (!this.skuIndex) {
      this.skuIndex = new Map();
      this.itemSkus.forEach((value, i) => {
        if (value === null) return;
        const list = this.skuIndex!.get(value);
        if (list) list.push(i);
        else this.skuIndex!.set(value, [i]);
      });
    }
    return this.skuIndex.get(sku) ?? [];
  }

  /** Levels stocked at a location, in item order (built once, on first use). */
  levelsAtLocation(location: number): Int32Array {
    if (!this.levelsByLocation) {
      const counts = new Int32Array(this.locations.length);
      for (let level = 0; level < this.levelCount; level++) counts[this.levelLocation[level]!]!++;
      const lists = Array.from(counts, (count) => new Int32Array(count));
      const fill = new Int32Array(this.locations.length);
      for (let level = 0; level < this.levelCount; level++) {
        const location = this.levelLocation[level]!;
        lists[location]![fill[location]!++] = level;
      }
      this.levelsByLocation = lists;
    }
    return this.levelsByLocation[location]!;
  }
}
