// The in-process API of the Shopify emulator: start one on a free loopback port, inspect it, close it.
import { Emulator, type EmulatorCounters, type EmulatorOptions, type FaultOptions } from './server.js';
import type { QuantityName } from './seed.js';
import type { HistoryEntry } from './store.js';
import type { StoredMetafield } from './metafields.js';
import type { ThrottleStatus } from './cost.js';

export { loadSeed, parseSeed, generateSeed, generateSeedSource, generateSeedItems, parseGenerateSpec, QUANTITY_NAMES } from './seed.js';
export type { Seed, SeedSource, SeedItem, SeedLevel, SeedLocation, SeedShop, SeedMetafield, GenerateSeedOptions, QuantityName } from './seed.js';
export type { HistoryEntry } from './store.js';
export type { BucketOptions, EmulatorCounters, FaultOptions } from './server.js';
export { signWebhook } from './webhooks.js';
export { SeedError } from './errors.js';
export type { WebhookOptions, WebhookCounters } from './webhooks.js';
export { INVENTORY_REASONS } from './mutations.js';
export { DEFAULT_IDEMPOTENCY_TTL_S } from './ledger.js';
export { DEFAULT_SCOPES, parseScopes } from './scopes.js';
export { digestOf } from './metafields.js';
export type { StoredMetafield } from './metafields.js';
export { EMULATOR_SDL } from './sdl.js';

/** The shop (seed), where to listen, the token to require, the bucket and the faults: see EmulatorOptions. */
export type StartEmulatorOptions = EmulatorOptions;

export interface EmulatorState {
  /** Current quantities of item × location (all eight names), or undefined when the item isn't stocked there. */
  level(inventoryItemId: string, locationId: string): Record<QuantityName, number> | undefined;
  /** Every quantity change, in order (a set of available records available and on_hand). The same array on every read, brought up to date by the read. */
  readonly history: HistoryEntry[];
  /** Calls per operation, throttled answers, injected faults… Live object. */
  readonly counters: EmulatorCounters;
  /** Changes fault settings while running (e.g. start the sales stream mid-test). */
  setFaults(partial: FaultOptions): void;
  /** An order on one level: available −quantity, committed +quantity (emulator-only; history kind 'sale'). */
  sell(inventoryItemId: string, locationId: string, quantity?: number): Record<QuantityName, number>;
  /** A shop metafield as stored (value, type, compareDigest, timestamps), or undefined; `$app:…` namespaces understood. */
  metafield(namespace: string, key: string): StoredMetafield | undefined;
  /** Resolves once every webhook queued so far was delivered or given up (at once without --webhook-url). */
  webhooksIdle(): Promise<void>;
  /** The cost bucket as a call's answer would report it now (benches watch what a client leaves unspent). */
  throttleStatus(): ThrottleStatus;
}

export interface RunningEmulator {
  /** Base URL, e.g. http://127.0.0.1:43121; GraphQL at `${url}/admin/api/2026-04/graphql.json`. */
  url: string;
  /** The GraphQL endpoint for an API version (default 2026-04). */
  graphqlUrl(apiVersion?: string): string;
  state: EmulatorState;
  close(): Promise<void>;
}

export async function startEmulator(options: StartEmulatorOptions): Promise<RunningEmulator> {
  const emulator = new Emulator(options);
  const url = await emulator.listen();
  const store = emulator.store;
  return {
    url,
    graphqlUrl: (apiVersion = '2026-04') => `${url}/admin/api/${apiVersion}/graphql.json`,
    close: () => emulator.close(),
    state: {
      level(inventoryItemId, locationId) {
        const item = store.itemIndex(inventoryItemId);
        const location = store.locationIndex(locationId);
        const level = item === undefined || location === undefined ? undefined : store.levelIndex(item, location);
        return level === undefined ? undefined : store.levelQuantities(level);
      },
      get history() {
        return store.history;
      },
      counters: emulator.counters,
      setFaults: (partial) => emulator.setFaults(partial),
      sell: (inventoryItemId, locationId, quantity = 1) => emulator.saleByIds(inventoryItemId, locationId, quantity),
      metafield: (namespace, key) => emulator.shop.metafield(namespace, key),
      webhooksIdle: () => emulator.webhooks?.idle() ?? Promise.resolve(),
      throttleStatus: () => emulator.bucket.status(),
    },
  };
}
