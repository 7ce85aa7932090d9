// The emulator's server: the shop, its faults and sales stream, and the HTTP front (auth, faults) of Shopify's GraphQL endpoint (graphql-answer.ts) and of the /_emulator/ routes (inspection.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { GraphQLSchema } from 'graphql';
import { BulkManager } from './bulk.js';
import { LeakyBucket } from './cost.js';
import { buildEmulatorSchema, type EmulatorContext } from './graph.js';
import { answerGraphql } from './graphql-answer.js';
import { readBody, sendJson, type Answer } from './http.js';
import { handleInspection } from './inspection.js';
import { DEFAULT_IDEMPOTENCY_TTL_S, MutationLedger } from './ledger.js';
import { ShopResource } from './metafields.js';
import { DEFAULT_SCOPES } from './scopes.js';
import { createRng, type SeedSource, type QuantityName } from './seed.js';
import { ShopStore, type HistoryEntry, type RecordedChanges } from './store.js';
import { WebhookSender, type WebhookCounters, type WebhookOptions } from './webhooks.js';

export interface FaultOptions {
  /** Fraction (0..1) of GraphQL requests answered with a 5xx before anything runs. */
  errorRate?: number;
  /** Fraction (0..1) of GraphQL requests whose connection is destroyed without an answer, AFTER the request ran. */
  dropRate?: number;
  /** Fraction (0..1) of GraphQL requests answered 502/504 AFTER the request ran (a gateway lost the answer); dropRate + lateErrorRate ≤ 1. */
  lateErrorRate?: number;
  /** Processing time of every GraphQL request, in milliseconds; a mutation holds its idempotency key meanwhile. */
  latencyMs?: number;
  /** Simulated orders per second: each moves 1 unit of a random stocked level from available to committed. */
  salesPerSecond?: number;
  /** Seed of the fault and sales RNG (reproducible runs). */
  seed?: number;
  /** Changes the idempotency retention (seconds) while running; see EmulatorOptions.idempotencyTtlS. */
  idempotencyTtlS?: number;
}

export interface BucketOptions {
  maximumAvailable?: number;
  restoreRate?: number;
}

export interface EmulatorOptions {
  seed: SeedSource;
  port?: number;
  host?: string;
  /** When set, X-Shopify-Access-Token must equal it; otherwise any non-empty token is accepted. */
  token?: string;
  bucket?: BucketOptions;
  faults?: FaultOptions;
  /** Seconds an idempotency key is remembered after its request finished (default 86400; 0 forgets at once). */
  idempotencyTtlS?: number;
  /** Access scopes granted to the emulated app (default read_inventory, write_inventory, read_locations). */
  scopes?: readonly string[];
  /** Post Shopify's inventory_levels/update webhook for every change of available (see docs/emulator.md "Webhook contract"). */
  webhooks?: WebhookOptions;
  /** Where logs go (default: nowhere); the CLI passes stderr. */
  log?: (line: string) => void;
}

export interface EmulatorCounters {
  /** HTTP requests to the GraphQL endpoint, whatever became of them. */
  requests: number;
  queries: number;
  mutations: number;
  /** Executed root fields, by name (e.g. inventorySetQuantities). */
  operations: Record<string, number>;
  throttled: number;
  maxCostExceeded: number;
  unauthorized: number;
  badRequests: number;
  idempotentReplays: number;
  /** Idempotency keys forgotten (their retention window ran out). */
  idempotencyKeysForgotten: number;
  bulkOperations: number;
  sales: number;
  faults: { errors: number; drops: number; lateErrors: number; delayed: number };
  webhooks: WebhookCounters;
}

/** The oldest API version the emulator pretends to still support (Shopify supports each for about a year). */
export const OLDEST_SUPPORTED_VERSION = '2026-01';

/**
 * The version Shopify says it served (X-Shopify-API-Version): a supported one as asked; an older or malformed one
 * falls back to the oldest supported (a guess: the worse case, a silent fallback the client must notice).
 */
export function servedApiVersion(requested: string): string {
  if (requested === 'unstable') return requested;
  return /^\d{4}-(01|04|07|10)$/.test(requested) && requested >= OLDEST_SUPPORTED_VERSION ? requested : OLDEST_SUPPORTED_VERSION;
}
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function newCounters(): EmulatorCounters {
  return {
    requests: 0,
    queries: 0,
    mutations: 0,
    operations: {},
    throttled: 0,
    maxCostExceeded: 0,
    unauthorized: 0,
    badRequests: 0,
    idempotentReplays: 0,
    idempotencyKeysForgotten: 0,
    bulkOperations: 0,
    sales: 0,
    faults: { errors: 0, drops: 0, lateErrors: 0, delayed: 0 },
    webhooks: { created: 0, attempts: 0, delivered: 0, retries: 0, duplicates: 0, failed: 0 },
  };
}

export class Emulator {
  readonly store: ShopStore;
  readonly ledger: MutationLedger;
  readonly bulk: BulkManager;
  readonly bucket: LeakyBucket;
  readonly counters = newCounters();
  readonly schema: GraphQLSchema;
  readonly shop: ShopResource;
  readonly scopes: ReadonlySet<string>;
  readonly webhooks: WebhookSender | undefined;
  private faults: Required<Omit<FaultOptions, 'seed' | 'idempotencyTtlS'>> & { seed: number };
  private rng: () => number;
  private salesTimer: NodeJS.Timeout | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly context: Omit<EmulatorContext, 'processing'>;
  url = '';

  constructor(private readonly options: EmulatorOptions) {
    const host = options.host ?? '127.0.0.1';
    if (!LOOPBACK.test(host)) throw new Error(`the emulator listens on loopback addresses only (127.0.0.1, ::1, localhost), not ${host}`);
    const ttl = options.idempotencyTtlS ?? DEFAULT_IDEMPOTENCY_TTL_S;
    if (!(ttl >= 0)) throw new Error(`idempotencyTtlS must be ≥ 0, got ${ttl}`);
    this.store = new ShopStore(options.seed);
    this.shop = new ShopResource(options.seed.shop);
    // Its own RNG, so turning webhooks on leaves the fault and sales sequence of a seed unchanged.
    this.webhooks = options.webhooks
      ? new WebhookSender(options.webhooks, this.shop.myshopifyDomain, createRng((options.faults?.seed ?? 1) + 1), (line) => this.log(line))
      : undefined;
    if (this.webhooks) this.counters.webhooks = this.webhooks.counters;
    this.ledger = new MutationLedger(this.store, { idempotencyTtlS: ttl, onHistory: (entries) => this.recordHistory(entries) });
    this.scopes = new Set(options.scopes ?? DEFAULT_SCOPES);
    this.schema = buildEmulatorSchema();
    this.bulk = new BulkManager(this.schema, () => ({ ...this.context, processing: async () => {} }));
    this.context = { store: this.store, ledger: this.ledger, bulk: this.bulk, shop: this.shop, scopes: this.scopes };
    this.bucket = new LeakyBucket(options.bucket?.maximumAvailable ?? 2000, options.bucket?.restoreRate ?? 100);
    this.faults = { errorRate: 0, dropRate: 0, lateErrorRate: 0, latencyMs: 0, salesPerSecond: 0, seed: 1 };
    this.rng = createRng(1);
    this.setFaults(options.faults ?? {});
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Every quantity change goes through here: the history, and a webhook per change of available. */
  private recordHistory(changes: HistoryEntry[] | RecordedChanges): void {
    const store = this.store;
    if (!this.webhooks) return store.recordHistory(changes);
    const entries = Array.isArray(changes) ? changes : store.entriesOf(changes);
    store.recordHistory(entries);
    for (const entry of entries) {
      if (entry.name !== 'available' || entry.delta === 0) continue;
      const level = store.levelIndex(store.itemIndex(entry.inventoryItemId)!, store.locationIndex(entry.locationId)!)!;
      this.webhooks.send({
        inventoryItemId: entry.inventoryItemId,
        locationId: entry.locationId,
        levelId: store.levelId(level),
        available: entry.after,
        at: entry.at,
      });
    }
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.log(`emulator: internal error: ${(error as Error).stack ?? String(error)}`);
        if (!res.headersSent) sendJson(res, { status: 500, body: { errors: 'Internal Server Error' } });
        else res.destroy();
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.bulk.baseUrl = this.url;
    return this.url;
  }

  async close(): Promise<void> {
    if (this.salesTimer) clearInterval(this.salesTimer);
    this.salesTimer = undefined;
    this.bulk.close();
    this.webhooks?.close();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  setFaults(partial: FaultOptions): void {
    for (const key of ['errorRate', 'dropRate', 'lateErrorRate'] as const) {
      const value = partial[key];
      if (value !== undefined && !(value >= 0 && value <= 1)) throw new Error(`faults.${key} must be between 0 and 1, got ${value}`);
    }
    const lost = (partial.dropRate ?? this.faults.dropRate) + (partial.lateErrorRate ?? this.faults.lateErrorRate);
    if (lost > 1) throw new Error(`faults.dropRate + faults.lateErrorRate must be at most 1, got ${lost}`);
    for (const key of ['latencyMs', 'salesPerSecond'] as const) {
      const value = partial[key];
      if (value !== undefined && !(value >= 0)) throw new Error(`faults.${key} must be ≥ 0, got ${value}`);
    }
    const { idempotencyTtlS, ...faults } = partial;
    if (idempotencyTtlS !== undefined) {
      if (!(idempotencyTtlS >= 0)) throw new Error(`idempotencyTtlS must be ≥ 0, got ${idempotencyTtlS}`);
      this.ledger.idempotencyTtlMs = idempotencyTtlS * 1000;
    }
    partial = faults;
    if (partial.seed !== undefined) this.rng = createRng(partial.seed);
    const restartSales = partial.salesPerSecond !== undefined && partial.salesPerSecond !== this.faults.salesPerSecond;
    this.faults = { ...this.faults, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
    if (restartSales) this.startSales();
  }

  get faultSettings(): Readonly<FaultOptions> {
    return { ...this.faults, idempotencyTtlS: this.ledger.idempotencyTtlMs / 1000 };
  }

  // ---- the sales stream ------------------------------------------------------------------------

  private startSales(): void {
    if (this.salesTimer) clearInterval(this.salesTimer);
    this.salesTimer = undefined;
    const rate = this.faults.salesPerSecond;
    if (!rate) return;
    let owed = 0;
    let last = performance.now();
    this.salesTimer = setInterval(() => {
      const now = performance.now();
      owed += ((now - last) / 1000) * rate;
      last = now;
      for (; owed >= 1; owed--) this.randomSale();
    }, 20);
    this.salesTimer.unref();
  }

  /** One order on a random stocked level with available > 0 (a few tries, then give up for this tick). */
  private randomSale(): void {
    const levels = this.store.levelCount;
    if (levels === 0) return;
    for (let attempt = 0; attempt < 32; attempt++) {
      const level = Math.floor(this.rng() * levels);
      if (this.store.get(level, 'available') > 0 && this.sellable(level)) {
        this.sell(level, 1);
        return;
      }
    }
  }

  /** Orders move quantities of tracked items at active locations only. */
  private sellable(level: number): boolean {
    return !this.store.untracked.has(this.store.levelItem(level)) && this.store.locations[this.store.levelLocation[level]!]!.isActive;
  }

  /** An order: available goes down, committed up, on_hand stays (the goods are still on the shelf). */
  sell(level: number, quantity: number): void {
    const at = new Date().toISOString();
    const item = this.store.itemIds[this.store.levelItem(level)]!;
    const locationId = this.store.locations[this.store.levelLocation[level]!]!.id;
    const entries: HistoryEntry[] = [];
    for (const [name, delta] of [
      ['available', -quantity],
      ['committed', quantity],
    ] as [QuantityName, number][]) {
      const before = this.store.get(level, name);
      this.store.set(level, name, before + delta);
      entries.push({ at, kind: 'sale', inventoryItemId: item, locationId, name, before, after: before + delta, delta });
    }
    this.ledger.record(entries);
    this.counters.sales++;
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname;
    const graphql = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(path);
    if (graphql) {
      res.setHeader('x-shopify-api-version', servedApiVersion(decodeURIComponent(graphql[1]!)));
      if (req.method !== 'POST') return sendJson(res, { status: 405, body: { errors: 'Method Not Allowed: POST a JSON body' } });
      return this.handleGraphql(req, res);
    }
    if (path.startsWith('/_emulator/')) return handleInspection(this, req, res, url);
    sendJson(res, { status: 404, body: { errors: 'Not Found' } });
  }

  private async handleGraphql(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests++;
    const processing = this.processingTime();
    // Both draws happen on every request, so one seed gives one sequence whatever the rates are.
    const errorDraw = this.rng();
    const dropDraw = this.rng();
    const statusDraw = this.rng();
    if (errorDraw < this.faults.errorRate) {
      await processing();
      this.counters.faults.errors++;
      const status = [500, 502, 503, 504][Math.floor(statusDraw * 4)]!;
      await readBody(req);
      return sendJson(res, {
        status,
        body: {
          errors: status === 503 ? 'Service Unavailable' : status === 504 ? 'Gateway Timeout' : status === 502 ? 'Bad Gateway' : 'Internal Server Error',
        },
      });
    }
    const token = req.headers['x-shopify-access-token'];
    const tokenValue = Array.isArray(token) ? token[0] : token;
    if (!tokenValue || (this.options.token !== undefined && tokenValue !== this.options.token)) {
      this.counters.unauthorized++;
      await processing();
      await readBody(req);
      return sendJson(res, { status: 401, body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' } });
    }
    const text = await readBody(req);
    let answer: Answer;
    if (text === undefined) answer = { status: 413, body: { errors: 'Request body too large' } };
    else
      answer = await answerGraphql(
        { schema: this.schema, bucket: this.bucket, ledger: this.ledger, counters: this.counters, context: this.context },
        text,
        processing,
      );
    await processing();
    if (dropDraw < this.faults.dropRate) {
      // The request ran; only the answer is lost: the case idempotency keys exist for.
      this.counters.faults.drops++;
      req.socket.destroy();
      return;
    }
    // One draw decides both lost-answer faults, so adding this one left every seed's sequence as it was.
    if (dropDraw < this.faults.dropRate + this.faults.lateErrorRate) {
      this.counters.faults.lateErrors++;
      const status = statusDraw < 0.5 ? 502 : 504;
      return sendJson(res, { status, body: { errors: status === 502 ? 'Bad Gateway' : 'Gateway Timeout' } });
    }
    sendJson(res, answer);
  }

  /** The request's --latency-ms delay as a function that waits the first time only (a mutation spends it holding its key). */
  private processingTime(): () => Promise<void> {
    let spent = false;
    return async () => {
      if (spent || this.faults.latencyMs <= 0) return;
      spent = true;
      this.counters.faults.delayed++;
      await new Promise((resolve) => setTimeout(resolve, this.faults.latencyMs));
    };
  }

  /** An order placed "by a customer" on one level (emulator-only). */
  saleByIds(inventoryItemId: string, locationId: string, quantity = 1): Record<QuantityName, number> {
    const item = this.store.itemIndex(inventoryItemId);
    const location = this.store.locationIndex(locationId);
    const level = item === undefined || location === undefined ? undefined : this.store.levelIndex(item, location);
    if (level === undefined) throw new Error(`no inventory level for ${inventoryItemId} at ${locationId}`);
    if (!this.sellable(level))
      throw new Error(`${inventoryItemId} at ${locationId}: orders move no quantities of an untracked item or at an inactive location`);
    if (!Number.isInteger(quantity) || quantity < 1) throw new Error(`quantity must be a whole number ≥ 1, got ${quantity}`);
    this.sell(level, quantity);
    return this.store.levelQuantities(level);
  }
}
