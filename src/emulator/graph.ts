// The executable schema: Shopify's names (sdl.ts) plus resolvers over the in-memory shop.
import {
  buildSchema,
  getDirectiveValues,
  GraphQLError,
  type GraphQLScalarType,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type FieldNode,
  type GraphQLSchema,
} from 'graphql';
import type { AdjustmentGroup, InventoryPayload, MutationLedger } from './ledger.js';
import { adjustQuantities, checkInputShape, setQuantities, type AdjustQuantitiesInput, type SetQuantitiesInput } from './mutations.js';
import type { MetafieldsSetInput, ShopResource } from './metafields.js';
import { accessDenied, hasScope, NODE_SCOPES, REQUIRED_SCOPES } from './scopes.js';
import { EMULATOR_SDL } from './sdl.js';
import { QUANTITY_NAMES, type QuantityName } from './seed.js';
import { gidTail, quantityIndex, type ShopStore } from './store.js';
import type { BulkManager } from './bulk.js';
import { arrayKeys, MAX_PAGE_SIZE, paginate, rangeKeys, type KeyList, type PageArgs } from './pages.js';

export interface EmulatorContext {
  store: ShopStore;
  ledger: MutationLedger;
  bulk: BulkManager;
  shop: ShopResource;
  /** Scopes granted to the emulated app. */
  scopes: ReadonlySet<string>;
  /** The request's processing time (the --latency-ms delay), spent once per request; mutations spend it holding their key. */
  processing: () => Promise<void>;
  /** The answer of an inventory mutation that already ran (inventory-answer.ts), for graphql-js to complete as it would have. */
  answered?: Promise<InventoryPayload>;
}

export interface ItemNode {
  readonly kind: 'InventoryItem';
  readonly index: number;
}
export interface LevelNode {
  readonly kind: 'InventoryLevel';
  readonly index: number;
}
export interface LocationNode {
  readonly kind: 'Location';
  readonly index: number;
}

const item = (index: number): ItemNode => ({ kind: 'InventoryItem', index });
const level = (index: number): LevelNode => ({ kind: 'InventoryLevel', index });
const location = (index: number): LocationNode => ({ kind: 'Location', index });

// ---- search syntax -----------------------------------------------------------------------------

/** The subset of Shopify's search syntax the emulator understands on inventoryItems: sku:, id:, OR, AND. */
export function itemMatcher(store: ShopStore, query: string | null | undefined): ((index: number) => boolean) | undefined {
  if (!query || !query.trim()) return undefined;
  const tokens = query.match(/(?:[^\s"]+:"[^"]*"|"[^"]*"|\S+)/g) ?? [];
  const groups: { field: string; value: string }[][] = [[]];
  for (const token of tokens) {
    if (token === 'OR') {
      groups.push([]);
      continue;
    }
    if (token === 'AND') continue;
    const match = /^(sku|id):(.*)$/.exec(token);
    if (!match) {
      throw new GraphQLError(`The emulator's inventoryItems(query:) understands sku:VALUE and id:VALUE terms joined by OR/AND, not ${JSON.stringify(token)}.`, {
        extensions: { code: 'BAD_REQUEST' },
      });
    }
    groups[groups.length - 1]!.push({ field: match[1]!, value: match[2]!.replace(/^"(.*)"$/, '$1') });
  }
  const nonEmpty = groups.filter((group) => group.length > 0);
  return (index) =>
    nonEmpty.some((group) =>
      group.every((term) => (term.field === 'sku' ? store.itemSkus[index] === term.value : gidTail(store.itemIds[index]!) === gidTail(term.value))),
    );
}

/** Item keys matching a query: a direct SKU lookup when possible, a scan otherwise. */
export function itemKeys(store: ShopStore, query: string | null | undefined): KeyList {
  const matcher = itemMatcher(store, query);
  if (!matcher) return rangeKeys(store.itemCount);
  const single = /^sku:("?)([^"\s]*)\1$/.exec(query!.trim());
  if (single) return arrayKeys(store.itemsWithSku(single[2]!));
  const matches: number[] = [];
  for (let index = 0; index < store.itemCount; index++) if (matcher(index)) matches.push(index);
  return arrayKeys(matches);
}

function itemLevelKeys(store: ShopStore, index: number): KeyList {
  const start = store.levelStart[index]!;
  return { length: store.levelStart[index + 1]! - start, at: (position) => start + position };
}

/** Locations in Shopify's default order (sortKey NAME) or by id; keys are positions in that order. Inactive ones only when asked. */
function locationOrder(store: ShopStore, sortKey: string, includeInactive = false): number[] {
  const order = store.locations.map((_, i) => i).filter((i) => includeInactive || store.locations[i]!.isActive);
  if (sortKey === 'NAME') order.sort((a, b) => store.locations[a]!.name.localeCompare(store.locations[b]!.name) || a - b);
  return order;
}

// ---- quantities --------------------------------------------------------------------------------

export function checkQuantityNames(names: readonly string[]): QuantityName[] {
  for (const name of names) {
    if (quantityIndex(name) === undefined) {
      throw new GraphQLError(`The quantity name '${name}' is invalid. Valid names are: ${QUANTITY_NAMES.join(', ')}.`, { extensions: { code: 'BAD_REQUEST' } });
    }
  }
  return names as QuantityName[];
}

// ---- the schema --------------------------------------------------------------------------------

type Resolvers = Record<string, Record<string, GraphQLFieldResolver<never, EmulatorContext, never>>>;

/** Connection fields a bulk operation walks completely (no `first`), by "Type.field". */
export type BulkIterator = (source: unknown, args: Record<string, unknown>, context: EmulatorContext) => Iterable<unknown>;

function* keyIterator<T>(keys: KeyList, toNode: (key: number) => T): Generator<T> {
  for (let position = 0; position < keys.length; position++) yield toNode(keys.at(position));
}

export const bulkIterators: Record<string, BulkIterator> = {
  'QueryRoot.inventoryItems': (_source, args, { store }) => keyIterator(itemKeys(store, args['query'] as string | undefined), item),
  'QueryRoot.locations': (_source, args, { store }) =>
    locationOrder(store, (args['sortKey'] as string) ?? 'NAME', args['includeInactive'] === true).map(location),
  'InventoryItem.inventoryLevels': (source, _args, { store }) => keyIterator(itemLevelKeys(store, (source as ItemNode).index), level),
  'Location.inventoryLevels': (source, _args, { store }) => keyIterator(arrayKeys(store.levelsAtLocation((source as LocationNode).index)), level),
};

/** One entry of InventoryAdjustmentGroup.changes: row `index` of the group, one quantity name. */
interface ChangeEntry {
  group: AdjustmentGroup;
  index: number;
  name: QuantityName;
  delta: number;
  quantityAfterChange: number;
}

function changesOf(
  group: AdjustmentGroup,
  args: { inventoryItemIds?: string[] | null; locationIds?: string[] | null; quantityNames?: string[] | null },
  store: ShopStore,
): ChangeEntry[] {
  const names = args.quantityNames ? checkQuantityNames(args.quantityNames) : group.names;
  const width = QUANTITY_NAMES.length;
  const out: ChangeEntry[] = [];
  for (let index = 0; index < group.items.length; index++) {
    if (args.inventoryItemIds && !args.inventoryItemIds.includes(store.itemIds[group.items[index]!]!)) continue;
    if (args.locationIds && !args.locationIds.includes(store.locations[group.locations[index]!]!.id)) continue;
    for (const name of names) {
      const delta = group.names.includes(name) ? group.deltas[index]! : 0;
      out.push({ group, index, name, delta, quantityAfterChange: group.after[index * width + quantityIndex(name)!]! });
    }
  }
  return out;
}

function idempotencyKey(info: Parameters<GraphQLFieldResolver<unknown, unknown>>[3]): string | undefined {
  return idempotencyKeyOf(info.schema, info.fieldNodes[0]!, info.variableValues);
}

/** The key of a field's @idempotent directive, or undefined without one. */
export function idempotencyKeyOf(schema: GraphQLSchema, field: FieldNode, variables: Record<string, unknown>): string | undefined {
  const values = getDirectiveValues(schema.getDirective('idempotent')!, field, variables);
  return values ? (values['key'] as string) : undefined;
}

export type InventoryMutationName = 'inventorySetQuantities' | 'inventoryAdjustQuantities';

/**
 * One inventory mutation once its arguments are known: the input's shape (a GraphQLError thrown before anything
 * ran), then the write itself, holding the idempotency key while the request's processing time elapses.
 */
export function runInventoryMutation(
  name: InventoryMutationName,
  input: SetQuantitiesInput | AdjustQuantitiesInput,
  key: string | undefined,
  { ledger, processing }: EmulatorContext,
): Promise<InventoryPayload> {
  if (name === 'inventorySetQuantities') {
    const set = input as SetQuantitiesInput;
    checkInputShape(set.quantities, 'quantities', 'InventoryQuantityInput', name, key);
    return ledger.exclusive(key!, processing, () => setQuantities(ledger, set, key));
  }
  const adjust = input as AdjustQuantitiesInput;
  checkInputShape(adjust.changes, 'changes', 'InventoryChangeInput', name, key);
  return ledger.exclusive(key!, processing, () => adjustQuantities(ledger, adjust, key));
}

/** Any object the emulator knows by its global id (for node/nodes); ACCESS_DENIED for a type the app may not read. */
function nodeById(context: EmulatorContext, id: string, fieldName = 'node'): unknown {
  const { store, bulk } = context;
  const type = /^gid:\/\/shopify\/([A-Za-z]+)\//.exec(id)?.[1];
  const scope = type === undefined ? undefined : NODE_SCOPES[type];
  if (scope && !hasScope(context.scopes, scope)) throw accessDenied(fieldName, scope);
  if (type === 'InventoryItem') {
    const index = store.itemIndex(id);
    return index === undefined ? null : item(index);
  }
  if (type === 'Location') {
    const index = store.locationIndex(id);
    return index === undefined ? null : location(index);
  }
  if (type === 'InventoryLevel') {
    const match = /^gid:\/\/shopify\/InventoryLevel\/(\d+)(?:\?inventory_item_id=(.*))?$/.exec(id);
    const index = match ? Number(match[1]) - 1 : -1;
    return index >= 0 && index < store.levelCount && store.levelId(index) === id ? level(index) : null;
  }
  if (type === 'BulkOperation') return bulk.get(id) ?? null;
  return null;
}

const resolvers: Resolvers = {
  QueryRoot: {
    node: (_s, args: { id: string }, context) => nodeById(context, args.id),
    nodes: (_s, args: { ids: string[] }, context) => {
      if (args.ids.length > MAX_PAGE_SIZE) {
        throw new GraphQLError(`The input array size of ${args.ids.length} is greater than the maximum allowed of ${MAX_PAGE_SIZE}.`, {
          path: ['nodes', 'ids'],
          extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' },
        });
      }
      return args.ids.map((id) => nodeById(context, id, 'nodes'));
    },
    location: (_s, args: { id?: string | null }, { store }) => {
      if (args.id === undefined || args.id === null) return store.locations.length > 0 ? location(0) : null;
      const index = store.locationIndex(args.id);
      return index === undefined ? null : location(index);
    },
    locations: (_s, args: PageArgs & { sortKey: string; query?: string | null; includeInactive: boolean }, { store }) => {
      if (args.query) throw new GraphQLError("The emulator's locations(query:) filter is not supported.", { extensions: { code: 'BAD_REQUEST' } });
      const order = locationOrder(store, args.sortKey, args.includeInactive);
      return paginate(rangeKeys(order.length), args, (position) => location(order[position]!));
    },
    inventoryItem: (_s, args: { id: string }, { store }) => {
      const index = store.itemIndex(args.id);
      return index === undefined ? null : item(index);
    },
    inventoryItems: (_s, args: PageArgs & { query?: string | null }, { store }) => paginate(itemKeys(store, args.query), args, item),
    inventoryLevel: (_s, args: { id: string }, context) =>
      /^gid:\/\/shopify\/InventoryLevel\//.test(args.id) ? nodeById(context, args.id, 'inventoryLevel') : null,
    bulkOperation: (_s, args: { id: string }, { bulk }) => bulk.get(args.id) ?? null,
    currentBulkOperation: (_s, args: { type: string }, { bulk }) => (args.type === 'QUERY' ? (bulk.current() ?? null) : null),
    shop: (_s, _a, { shop }) => shop,
    currentAppInstallation: (_s, _a, { scopes }) => ({
      id: 'gid://shopify/AppInstallation/1',
      accessScopes: [...scopes].map((handle) => ({ handle, description: `The ${handle.replace('_', ' ')} access scope.` })),
    }),
  },
  Mutation: {
    inventorySetQuantities: (_s, args: { input: SetQuantitiesInput }, context, info) =>
      context.answered ?? runInventoryMutation('inventorySetQuantities', args.input, idempotencyKey(info), context),
    inventoryAdjustQuantities: (_s, args: { input: AdjustQuantitiesInput }, context, info) =>
      context.answered ?? runInventoryMutation('inventoryAdjustQuantities', args.input, idempotencyKey(info), context),
    bulkOperationRunQuery: (_s, args: { query: string; groupObjects: boolean }, { bulk }) => bulk.start(args.query, args.groupObjects),
    metafieldsSet: (_s, args: { metafields: MetafieldsSetInput[] }, { shop }) => shop.set(args.metafields),
  },
  Shop: {
    metafield: (s: ShopResource, args: { namespace?: string | null; key: string }) => s.metafield(args.namespace, args.key) ?? null,
  },
  Location: {
    id: (s: LocationNode, _a, { store }) => store.locations[s.index]!.id,
    name: (s: LocationNode, _a, { store }) => store.locations[s.index]!.name,
    isActive: (s: LocationNode, _a, { store }) => store.locations[s.index]!.isActive,
    legacyResourceId: (s: LocationNode, _a, { store }) => gidTail(store.locations[s.index]!.id),
    inventoryLevel: (s: LocationNode, args: { inventoryItemId: string }, { store }) => {
      const index = store.itemIndex(args.inventoryItemId);
      const found = index === undefined ? undefined : store.levelIndex(index, s.index);
      return found === undefined ? null : level(found);
    },
    inventoryLevels: (s: LocationNode, args: PageArgs & { query?: string | null }, { store }) => {
      if (args.query) throw new GraphQLError("The emulator's inventoryLevels(query:) filter is not supported.", { extensions: { code: 'BAD_REQUEST' } });
      return paginate(arrayKeys(store.levelsAtLocation(s.index)), args, level);
    },
  },
  InventoryItem: {
    id: (s: ItemNode, _a, { store }) => store.itemIds[s.index],
    legacyResourceId: (s: ItemNode, _a, { store }) => gidTail(store.itemIds[s.index]!),
    sku: (s: ItemNode, _a, { store }) => store.itemSkus[s.index],
    tracked: (s: ItemNode, _a, { store }) => !store.untracked.has(s.index),
    duplicateSkuCount: (s: ItemNode, _a, { store }) => {
      const sku = store.itemSkus[s.index];
      return sku ? store.itemsWithSku(sku).length - 1 : 0;
    },
    inventoryLevel: (s: ItemNode, args: { locationId: string }, { store }) => {
      const index = store.locationIndex(args.locationId);
      const found = index === undefined ? undefined : store.levelIndex(s.index, index);
      return found === undefined ? null : level(found);
    },
    inventoryLevels: (s: ItemNode, args: PageArgs & { query?: string | null }, { store }) => {
      if (args.query) throw new GraphQLError("The emulator's inventoryLevels(query:) filter is not supported.", { extensions: { code: 'BAD_REQUEST' } });
      return paginate(itemLevelKeys(store, s.index), args, level);
    },
  },
  InventoryLevel: {
    id: (s: LevelNode, _a, { store }) => store.levelId(s.index),
    item: (s: LevelNode, _a, { store }) => item(store.levelItem(s.index)),
    location: (s: LevelNode, _a, { store }) => location(store.levelLocation[s.index]!),
    quantities: (s: LevelNode, args: { names: string[] }, { store }) =>
      checkQuantityNames(args.names).map((name) => ({ level: s.index, name, quantity: store.get(s.index, name) })),
  },
  InventoryQuantity: {
    // Built only when asked for: bulk reads of a million levels rarely want it.
    id: (s: { level: number; name: string }, _a, { store }) =>
      `gid://shopify/InventoryQuantity/${s.level + 1}?inventory_item_id=${gidTail(store.itemIds[store.levelItem(s.level)]!)}&name=${s.name}`,
    updatedAt: () => null,
  },
  InventoryAdjustmentGroup: {
    changes: (s: AdjustmentGroup, args: { inventoryItemIds?: string[]; locationIds?: string[]; quantityNames?: string[] }, { store }) =>
      changesOf(s, args, store),
  },
  InventoryChange: {
    delta: (s: { delta: number }) => s.delta,
    name: (s: { name: string }) => s.name,
    quantityAfterChange: (s: { quantityAfterChange: number }) => s.quantityAfterChange,
    ledgerDocumentUri: (s: ChangeEntry) => s.group.ledgerDocumentUris?.[s.index] ?? null,
    item: (s: ChangeEntry) => item(s.group.items[s.index]!),
    location: (s: ChangeEntry) => location(s.group.locations[s.index]!),
  },
};

/** Builds the executable schema (Shopify's names, emulator resolvers). */
export function buildEmulatorSchema(): GraphQLSchema {
  const schema = buildSchema(EMULATOR_SDL);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName) as GraphQLObjectType;
    const defined = type.getFields();
    for (const [fieldName, resolve] of Object.entries(fields)) {
      if (!defined[fieldName]) throw new Error(`resolver for unknown field ${typeName}.${fieldName}`);
      const scope = REQUIRED_SCOPES[`${typeName}.${fieldName}`];
      defined[fieldName].resolve = scope
        ? (source, args, context: EmulatorContext, info) => {
            if (!hasScope(context.scopes, scope)) throw accessDenied(fieldName, scope);
            return (resolve as GraphQLFieldResolver<unknown, EmulatorContext>)(source, args, context, info);
          }
        : (resolve as GraphQLFieldResolver<unknown, unknown>);
    }
  }
  // Shopify serializes UnsignedInt64 as a string (it may exceed 2^53).
  const unsigned = schema.getType('UnsignedInt64') as GraphQLScalarType;
  unsigned.serialize = (value: unknown) => String(value);
  for (const name of ['Node', 'DisplayableError'] as const) {
    const abstract = schema.getType(name) as { resolveType?: (value: unknown) => string | undefined };
    // Store-backed nodes carry their kind; records (bulk operations, adjustment groups) are known by their gid.
    abstract.resolveType = (value) => (value as { kind?: string }).kind ?? /^gid:\/\/shopify\/([A-Za-z]+)\//.exec(String((value as { id?: unknown }).id))?.[1];
  }
  return schema;
}
