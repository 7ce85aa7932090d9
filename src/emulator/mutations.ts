// inventorySetQuantities and inventoryAdjustQuantities with Shopify's 2026-04 rules: compare-and-swap on every row,
// an idempotency key, all-or-nothing validation, and available/on_hand moving together.
import { GraphQLError } from 'graphql';
import { fingerprintOf, type AdjustmentGroup, type InventoryPayload, type MutationLedger, type UserError } from './ledger.js';
import { QUANTITY_NAMES, type QuantityName } from './seed.js';
import type { ShopStore } from './store.js';

/** Shopify's documented inventory reasons. */
export const INVENTORY_REASONS = new Set([
  'correction',
  'cycle_count_available',
  'damaged',
  'movement_canceled',
  'movement_created',
  'movement_received',
  'movement_updated',
  'other',
  'promotion',
  'quality_control',
  'received',
  'reservation_created',
  'reservation_deleted',
  'reservation_updated',
  'restock',
  'safety_stock',
  'shrinkage',
]);

export const MAX_INPUT_ARRAY = 250;
const SET_LIMIT = 1_000_000_000;
const ADJUST_LIMIT = 2_000_000_000;
/** Names inventoryAdjustQuantities accepts (committed only moves with orders). */
const ADJUSTABLE = new Set<QuantityName>(['available', 'on_hand', 'reserved', 'damaged', 'safety_stock', 'quality_control', 'incoming']);
const UNAVAILABLE = new Set<QuantityName>(['reserved', 'damaged', 'safety_stock', 'quality_control']);

export interface SetQuantitiesInput {
  reason: string;
  name: string;
  referenceDocumentUri?: string | null;
  quantities: { inventoryItemId: string; locationId: string; quantity: number; changeFromQuantity?: number | null }[];
}

export interface AdjustQuantitiesInput {
  reason: string;
  name: string;
  referenceDocumentUri?: string | null;
  changes: { inventoryItemId: string; locationId: string; delta: number; changeFromQuantity?: number | null; ledgerDocumentUri?: string | null }[];
}

/** Shopify's documented message for IDEMPOTENCY_CONCURRENT_REQUEST (its typo kept). */
/** Top-level errors Shopify gives before any business rule runs. */
export function checkInputShape(
  rows: readonly object[],
  rowsField: 'quantities' | 'changes',
  inputTypeName: string,
  mutationName: string,
  idempotencyKey: string | undefined,
): void {
  if (rows.length > MAX_INPUT_ARRAY) {
    throw new GraphQLError(`The input array size of ${rows.length} is greater than the maximum allowed of ${MAX_INPUT_ARRAY}.`, {
      path: [mutationName, 'input', rowsField],
      extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' },
    });
  }
  if (idempotencyKey === undefined) {
    throw new GraphQLError('The @idempotent directive is required for this mutation but was not provided.', {
      path: [mutationName],
      extensions: { code: 'BAD_REQUEST' },
    });
  }
  // Absent and null differ: null opts out of compare-and-swap, absent is refused (2026-04).
  const missing = rows.findIndex((row) => !Object.prototype.hasOwnProperty.call(row, 'changeFromQuantity'));
  if (missing >= 0) {
    throw new GraphQLError(`${inputTypeName} must include the following argument: changeFromQuantity.`, {
      path: [mutationName, 'input', rowsField, missing],
      extensions: { code: 'INVALID_FIELD_ARGUMENTS' },
    });
  }
}

function validUri(uri: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\S+$/i.test(uri) && !/^gid:\/\/[^/]*\/?$/i.test(uri);
}

function checkCommon(input: { reason: string; referenceDocumentUri?: string | null }, errors: UserError[]): void {
  if (!INVENTORY_REASONS.has(input.reason)) {
    errors.push({ code: 'INVALID_REASON', field: ['input', 'reason'], message: 'The specified reason is invalid.' });
  }
  if (input.referenceDocumentUri !== null && input.referenceDocumentUri !== undefined && !validUri(input.referenceDocumentUri)) {
    errors.push({ code: 'INVALID_REFERENCE_DOCUMENT', field: ['input', 'referenceDocumentUri'], message: 'The specified reference document is invalid.' });
  }
}

/**
 * Resolves a row's item and location; pushes Shopify's errors when either is unknown, the item isn't stocked there,
 * the location is deactivated or the item untracked (the last two are guesses: see docs/emulator.md).
 */
function resolveLevel(store: ShopStore, row: { inventoryItemId: string; locationId: string }, field: RowField, errors: UserError[]): PlannedRow | undefined {
  const item = store.itemIndex(row.inventoryItemId);
  const location = store.locationIndex(row.locationId);
  if (item === undefined)
    errors.push({ code: 'INVALID_INVENTORY_ITEM', field: field('inventoryItemId'), message: 'The specified inventory item could not be found.' });
  if (location === undefined) errors.push({ code: 'INVALID_LOCATION', field: field('locationId'), message: 'The specified location could not be found.' });
  if (item === undefined || location === undefined) return undefined;
  if (!store.locations[location]!.isActive) {
    errors.push({ code: 'INVALID_LOCATION', field: field('locationId'), message: 'The specified location is not active.' });
    return undefined;
  }
  if (store.untracked.has(item)) {
    errors.push({
      code: 'NON_MUTABLE_INVENTORY_ITEM',
      field: field('inventoryItemId'),
      message: 'The specified inventory item does not track inventory.',
    });
    return undefined;
  }
  const level = store.levelIndex(item, location);
  if (level === undefined) {
    errors.push({
      code: 'ITEM_NOT_STOCKED_AT_LOCATION',
      field: field('locationId'),
      message: 'The specified inventory item is not stocked at the location.',
    });
    return undefined;
  }
  return { item, location, level, delta: 0, ledgerDocumentUri: null };
}

/** Which quantities move with a change of `name`: available and on_hand move together; unavailable states move on_hand. */
function companions(name: QuantityName): readonly QuantityName[] {
  if (name === 'available') return ['available', 'on_hand'];
  if (name === 'on_hand') return ['on_hand', 'available'];
  if (UNAVAILABLE.has(name)) return [name, 'on_hand'];
  return [name];
}

/** A row's field path in user errors (input, rows, index, then `tail`), built only when an error needs it. */
type RowField = (...tail: string[]) => string[];

interface PlannedRow {
  item: number;
  location: number;
  level: number;
  delta: number;
  ledgerDocumentUri: string | null;
}

function applyRows(
  ledger: MutationLedger,
  kind: 'set' | 'adjust',
  name: QuantityName,
  planned: PlannedRow[],
  input: { reason: string; referenceDocumentUri?: string | null },
  idempotencyKey: string,
  now: Date,
): AdjustmentGroup {
  const store = ledger.store;
  const at = now.toISOString();
  const names = companions(name);
  const count = planned.length;
  const width = QUANTITY_NAMES.length;
  const group: AdjustmentGroup = {
    id: ledger.nextGroupId(),
    createdAt: at,
    reason: input.reason,
    referenceDocumentUri: input.referenceDocumentUri ?? null,
    names,
    items: new Int32Array(count),
    locations: new Int32Array(count),
    deltas: new Float64Array(count),
    after: new Int32Array(count * width),
    ledgerDocumentUris: null,
  };
  const before = new Int32Array(count * names.length);
  for (let r = 0; r < count; r++) {
    const row = planned[r]!;
    for (let n = 0; n < names.length; n++) {
      const moved = names[n]!;
      const was = store.get(row.level, moved);
      before[r * names.length + n] = was;
      store.set(row.level, moved, was + row.delta);
    }
    group.items[r] = row.item;
    group.locations[r] = row.location;
    group.deltas[r] = row.delta;
    store.copyQuantities(row.level, group.after, r * width);
    if (row.ledgerDocumentUri !== null) (group.ledgerDocumentUris ??= new Array<string | null>(count).fill(null))[r] = row.ledgerDocumentUri;
  }
  const { items, locations, deltas } = group;
  ledger.record({ at, kind, idempotencyKey, referenceDocumentUri: input.referenceDocumentUri ?? null, names, items, locations, deltas, before });
  return group;
}

/** What tells the two mutations apart where they share their frame. */
interface MutationShape {
  name: 'inventorySetQuantities' | 'inventoryAdjustQuantities';
  kind: 'set' | 'adjust';
  rowsField: 'quantities' | 'changes';
  inputTypeName: string;
}

const SET: MutationShape = { name: 'inventorySetQuantities', kind: 'set', rowsField: 'quantities', inputTypeName: 'InventoryQuantityInput' };
const ADJUST: MutationShape = { name: 'inventoryAdjustQuantities', kind: 'adjust', rowsField: 'changes', inputTypeName: 'InventoryChangeInput' };

/**
 * The frame both mutations share: the input's shape, a replayed key answered from the ledger, then every
 * user error collected (the name's, the reason's and document's, each row's from `checkRow`), all or
 * nothing: the rows applied and the answer remembered under the key.
 */
function mutate<Row extends object>(
  ledger: MutationLedger,
  mutation: MutationShape,
  input: (SetQuantitiesInput | AdjustQuantitiesInput) & { name: string },
  rows: readonly Row[],
  idempotencyKey: string | undefined,
  now: Date,
  nameError: UserError | undefined,
  checkRow: (row: Row, field: RowField, errors: UserError[]) => PlannedRow | undefined,
): InventoryPayload {
  checkInputShape(rows, mutation.rowsField, mutation.inputTypeName, mutation.name, idempotencyKey);
  const key = idempotencyKey!;
  const fingerprint = fingerprintOf({ mutation: mutation.name, input });
  const replay = ledger.remembered(key, fingerprint, 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH');
  if (replay) return replay;

  const errors: UserError[] = nameError ? [nameError] : [];
  checkCommon(input, errors);
  const planned: PlannedRow[] = [];
  rows.forEach((row, i) => {
    const next = checkRow(row, (...tail) => ['input', mutation.rowsField, String(i), ...tail], errors);
    if (next) planned.push(next);
  });
  if (errors.length > 0) return ledger.remember(key, fingerprint, { inventoryAdjustmentGroup: null, userErrors: errors });
  const group = applyRows(ledger, mutation.kind, input.name as QuantityName, planned, input, key, now);
  return ledger.remember(key, fingerprint, { inventoryAdjustmentGroup: group, userErrors: [] });
}

export function setQuantities(ledger: MutationLedger, input: SetQuantitiesInput, idempotencyKey: string | undefined, now = new Date()): InventoryPayload {
  const store = ledger.store;
  const nameOk = input.name === 'available' || input.name === 'on_hand';
  const nameError: UserError | undefined = nameOk
    ? undefined
    : { code: 'INVALID_NAME', field: ['input', 'name'], message: "The quantity name must be either 'available' or 'on_hand'." };
  const name = input.name as QuantityName;
  const seen = new Set<number>();
  return mutate(ledger, SET, input, input.quantities, idempotencyKey, now, nameError, (row, field, errors) => {
    const errorsBefore = errors.length;
    if (row.quantity > SET_LIMIT)
      errors.push({ code: 'INVALID_QUANTITY_TOO_HIGH', field: field('quantity'), message: "The total quantity can't be higher than 1,000,000,000." });
    else if (row.quantity < -SET_LIMIT)
      errors.push({ code: 'INVALID_QUANTITY_TOO_LOW', field: field('quantity'), message: "The total quantity can't be lower than -1,000,000,000." });
    else if (row.quantity < 0 && input.name === 'on_hand')
      errors.push({ code: 'INVALID_QUANTITY_NEGATIVE', field: field('quantity'), message: "The quantity can't be negative." });
    const target = resolveLevel(store, row, field, errors);
    if (!target) return undefined;
    if (seen.has(target.level)) {
      errors.push({
        code: 'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR',
        field: field(),
        message: 'The combination of inventoryItemId and locationId must be unique.',
      });
    }
    seen.add(target.level);
    if (!nameOk) return undefined;
    const current = store.get(target.level, name);
    if (row.changeFromQuantity !== null && row.changeFromQuantity !== undefined && row.changeFromQuantity !== current) {
      errors.push({
        code: 'CHANGE_FROM_QUANTITY_STALE',
        field: field('changeFromQuantity'),
        message: 'The changeFromQuantity value does not match persisted value.',
      });
    }
    const delta = row.quantity - current;
    const other = name === 'available' ? 'on_hand' : 'available';
    if (errors.length === errorsBefore && store.get(target.level, other) + delta > SET_LIMIT) {
      errors.push({
        code: 'INVALID_QUANTITY_TOO_HIGH',
        field: field('quantity'),
        message: "The total quantity can't be higher than 1,000,000,000.",
      });
    }
    target.delta = delta;
    return target;
  });
}

export function adjustQuantities(ledger: MutationLedger, input: AdjustQuantitiesInput, idempotencyKey: string | undefined, now = new Date()): InventoryPayload {
  const store = ledger.store;
  const nameOk = ADJUSTABLE.has(input.name as QuantityName);
  const nameError: UserError | undefined = nameOk
    ? undefined
    : { code: 'INVALID_QUANTITY_NAME', field: ['input', 'name'], message: 'The specified quantity name is invalid.' };
  const name = input.name as QuantityName;
  // Running values, so two changes of one level in one call see each other (as sequential adjustments would).
  const running = new Map<number, number>();
  return mutate(ledger, ADJUST, input, input.changes, idempotencyKey, now, nameError, (change, field, errors) => {
    const ledgerUri = change.ledgerDocumentUri ?? null;
    if (nameOk && name === 'available' && ledgerUri !== null) {
      errors.push({
        code: 'INVALID_AVAILABLE_DOCUMENT',
        field: field('ledgerDocumentUri'),
        message: 'A ledger document URI is not allowed when adjusting available.',
      });
    } else if (nameOk && name !== 'available' && ledgerUri === null) {
      errors.push({
        code: 'INVALID_QUANTITY_DOCUMENT',
        field: field('ledgerDocumentUri'),
        message: 'A ledger document URI is required except when adjusting available.',
      });
    } else if (ledgerUri !== null && /^gid:\/\/shopify\//i.test(ledgerUri)) {
      errors.push({
        code: 'INTERNAL_LEDGER_DOCUMENT',
        field: field('ledgerDocumentUri'),
        message: 'Internal (gid://shopify/) ledger documents are not allowed to be adjusted via API.',
      });
    } else if (ledgerUri !== null && !validUri(ledgerUri)) {
      errors.push({ code: 'INVALID_LEDGER_DOCUMENT', field: field('ledgerDocumentUri'), message: 'The specified ledger document is invalid.' });
    }
    const target = resolveLevel(store, change, field, errors);
    if (!target || !nameOk) return undefined;
    const current = running.get(target.level) ?? store.get(target.level, name);
    if (change.changeFromQuantity !== null && change.changeFromQuantity !== undefined && change.changeFromQuantity !== current) {
      errors.push({
        code: 'CHANGE_FROM_QUANTITY_STALE',
        field: field('changeFromQuantity'),
        message: 'The changeFromQuantity argument no longer matches the persisted quantity.',
      });
    }
    const after = current + change.delta;
    const onHandAfter = name === 'incoming' || name === 'on_hand' ? after : store.get(target.level, 'on_hand') + change.delta;
    if (after > ADJUST_LIMIT || onHandAfter > ADJUST_LIMIT)
      errors.push({ code: 'INVALID_QUANTITY_TOO_HIGH', field: field('delta'), message: "The quantity can't be higher than 2,000,000,000." });
    else if (after < -ADJUST_LIMIT || onHandAfter < -ADJUST_LIMIT)
      errors.push({ code: 'INVALID_QUANTITY_TOO_LOW', field: field('delta'), message: "The quantity can't be lower than -2,000,000,000." });
    running.set(target.level, after);
    target.delta = change.delta;
    target.ledgerDocumentUri = ledgerUri;
    return target;
  });
}
