// The HTTP side: Shopify's GraphQL endpoint (auth, cost, throttling, faults) and the emulator-only inspection routes.
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  execute,
  getOperationAST,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLSchema,
} from 'graphql';
import { BulkManager } from './bulk.js';
import { actualCost, LeakyBucket, MAX_SINGLE_QUERY_COST, requestedCost, type CostInput, type ThrottleStatus } from './cost.js';
import { buildEmulatorSchema, type EmulatorContext } from './graph.js';
import { ShopResource } from './metafields.js';
import { DEFAULT_IDEMPOTENCY_TTL_S, MutationLedger } from './ledger.js';
import { DEFAULT_SCOPES } from './scopes.js';
import { createRng, type SeedSource, type QuantityName } from './seed.js';
import { ShopStore, type HistoryEntry } from './store.js';
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

const DOCS = 'https://shopify.dev/api/usage/rate-limits';
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
const MAX_BODY = 10 * 1024 * 1024;
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

interface Answer {
  status: number;
  body: unknown;
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
  private recordHistory(entries: HistoryEntry[]): void {
    const store = this.store;
    for (const entry of entries) {
      store.history.push(entry);
      if (!this.webhooks || entry.name !== 'available' || entry.delta === 0) continue;
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
        if (!res.headersSent) this.send(res, { status: 500, body: { errors: 'Internal Server Error' } });
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

  private send(res: ServerResponse, answer: Answer): void {
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async readBody(req: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) return undefined;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname;
    const graphql = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(path);
    if (graphql) {
      res.setHeader('x-shopify-api-version', servedApiVersion(decodeURIComponent(graphql[1]!)));
      if (req.method !== 'POST') return this.send(res, { status: 405, body: { errors: 'Method Not Allowed: POST a JSON body' } });
      return this.handleGraphql(req, res);
    }
    if (path.startsWith('/_emulator/')) return this.handleInspection(req, res, url);
    this.send(res, { status: 404, body: { errors: 'Not Found' } });
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
      await this.readBody(req);
      return this.send(res, {
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
      await this.readBody(req);
      return this.send(res, { status: 401, body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' } });
    }
    const text = await this.readBody(req);
    let answer: Answer;
    if (text === undefined) answer = { status: 413, body: { errors: 'Request body too large' } };
    else answer = await this.answerGraphql(text, processing);
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
      return this.send(res, { status, body: { errors: status === 502 ? 'Bad Gateway' : 'Gateway Timeout' } });
    }
    this.send(res, answer);
  }

  private costExtension(
    requested: number,
    actual: number | null,
  ): { cost: { requestedQueryCost: number; actualQueryCost: number | null; throttleStatus: ThrottleStatus } } {
    return { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: this.bucket.status() } };
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

  /** Runs one GraphQL request body through parse, validation, cost, the bucket and execution. */
  async answerGraphql(text: string, processing: () => Promise<void> = async () => {}): Promise<Answer> {
    let request: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      request = JSON.parse(text) as typeof request;
    } catch {
      this.counters.badRequests++;
      return { status: 400, body: { errors: 'Body is not valid JSON' } };
    }
    if (!request || typeof request.query !== 'string' || request.query.trim() === '') {
      this.counters.badRequests++;
      return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } };
    }
    const variables = request.variables && typeof request.variables === 'object' ? (request.variables as Record<string, unknown>) : {};
    const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
    let document: DocumentNode;
    try {
      document = parse(request.query);
    } catch (error) {
      return { status: 200, body: { errors: [(error as GraphQLError).toJSON()], extensions: this.costExtension(0, 0) } };
    }
    const validationErrors = validate(this.schema, document);
    if (validationErrors.length > 0) {
      return { status: 200, body: { errors: validationErrors.map((e) => e.toJSON()), extensions: this.costExtension(0, 0) } };
    }
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      return {
        status: 200,
        body: {
          errors: [
            {
              message: operationName
                ? `Unknown operation named "${operationName}".`
                : 'An operation name is required when the document has several operations.',
            },
          ],
          extensions: this.costExtension(0, 0),
        },
      };
    }
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    const costInput: CostInput = { schema: this.schema, operation, fragments, variables };
    const requested = requestedCost(costInput);
    const maxCost = Math.min(MAX_SINGLE_QUERY_COST, this.bucket.maximumAvailable);
    if (requested > maxCost) {
      this.counters.maxCostExceeded++;
      return {
        status: 200,
        body: {
          errors: [
            {
              message: `Query cost is ${requested}, which exceeds the single query max cost limit (${maxCost}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n`,
              extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost, documentation: DOCS },
            },
          ],
          extensions: this.costExtension(requested, null),
        },
      };
    }
    if (!this.bucket.tryTake(requested)) {
      this.counters.throttled++;
      return {
        status: 200,
        body: { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: DOCS } }], extensions: this.costExtension(requested, null) },
      };
    }
    const replaysBefore = this.ledger.replays;
    const forgottenBefore = this.ledger.forgotten;
    // A query is processed before it reads; a mutation's resolver spends the time while holding its idempotency key.
    if (operation.operation !== 'mutation') await processing();
    const result = await execute({ schema: this.schema, document, variableValues: variables, operationName, contextValue: { ...this.context, processing } });
    this.counters.idempotentReplays += this.ledger.replays - replaysBefore;
    this.counters.idempotencyKeysForgotten += this.ledger.forgotten - forgottenBefore;
    if (operation.operation === 'mutation') this.counters.mutations++;
    else this.counters.queries++;
    for (const selection of operation.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD || selection.name.value.startsWith('__')) continue;
      const name = selection.name.value;
      this.counters.operations[name] = (this.counters.operations[name] ?? 0) + 1;
      if (name === 'bulkOperationRunQuery') this.counters.bulkOperations++;
    }
    const actual = actualCost(costInput, result.data);
    this.bucket.refund(requested - actual);
    const body: Record<string, unknown> = {};
    if (result.errors) body['errors'] = result.errors.map((e) => e.toJSON());
    if (result.data !== undefined) body['data'] = result.data;
    body['extensions'] = this.costExtension(requested, actual);
    return { status: 200, body };
  }

  // ---- emulator-only routes (not Shopify) ------------------------------------------------------

  private async handleInspection(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const bulkFile = /^\/_emulator\/bulk\/(\d+)\.jsonl$/.exec(path);
    if (bulkFile && req.method === 'GET') {
      const file = this.bulk.filePath(bulkFile[1]!);
      if (!file) return this.send(res, { status: 404, body: { errors: 'No such bulk operation result' } });
      res.writeHead(200, { 'content-type': 'application/jsonl' });
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
      return;
    }
    if (path === '/_emulator/state' && req.method === 'GET') return this.streamState(res, url);
    if (path === '/_emulator/history' && req.method === 'GET')
      return this.send(res, { status: 200, body: { history: this.store.history, counters: this.counters } });
    if (path === '/_emulator/counters' && req.method === 'GET') return this.send(res, { status: 200, body: this.counters });
    if ((path === '/_emulator/sale' || path === '/_emulator/faults') && req.method === 'POST') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse((await this.readBody(req)) ?? '') as Record<string, unknown>;
      } catch {
        return this.send(res, { status: 400, body: { errors: 'Body is not valid JSON' } });
      }
      try {
        if (path === '/_emulator/faults') {
          this.setFaults(body);
          return this.send(res, { status: 200, body: this.faultSettings });
        }
        const quantities = this.saleByIds(String(body['inventoryItemId']), String(body['locationId']), Number(body['quantity'] ?? 1));
        return this.send(res, { status: 200, body: { quantities } });
      } catch (error) {
        return this.send(res, { status: 400, body: { errors: (error as Error).message } });
      }
    }
    this.send(res, { status: 404, body: { errors: 'Not Found' } });
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

  /** GET /_emulator/state, written level by level so a big shop never becomes one string. */
  private async streamState(res: ServerResponse, url: URL): Promise<void> {
    const sku = url.searchParams.get('sku');
    const itemFilter = url.searchParams.get('inventoryItemId');
    const locationFilter = url.searchParams.get('locationId');
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    const write = async (text: string) => {
      if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
    };
    await write('{"levels":[');
    let first = true;
    const store = this.store;
    for (let item = 0; item < store.itemCount; item++) {
      if (sku !== null && store.itemSkus[item] !== sku) continue;
      if (itemFilter !== null && store.itemIds[item] !== itemFilter) continue;
      for (let level = store.levelStart[item]!; level < store.levelStart[item + 1]!; level++) {
        const locationId = store.locations[store.levelLocation[level]!]!.id;
        if (locationFilter !== null && locationId !== locationFilter) continue;
        const entry = { inventoryItemId: store.itemIds[item], locationId, sku: store.itemSkus[item], quantities: store.levelQuantities(level) };
        await write((first ? '' : ',') + JSON.stringify(entry));
        first = false;
      }
    }
    await write(
      `],"locations":${JSON.stringify(store.locations)},"shop":${JSON.stringify({ id: this.shop.id, myshopifyDomain: this.shop.myshopifyDomain, metafields: this.shop.all() })},"history":${JSON.stringify(this.store.history)},"counters":${JSON.stringify(this.counters)}}`,
    );
    res.end();
  }
}
