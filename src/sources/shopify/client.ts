import { createAdminApiClient } from '@shopify/admin-api-client';
import type { LoadedConfig } from '../../config/load.js';
import { InputError, SourceError, errorMessage } from '../../errors.js';
import { TOKEN_ENV, redactSecrets, registerSecret } from '../../secrets.js';
import { toolVersion } from '../../version.js';
import { assertSafeUrl, resolveEndpoint, type ShopifyEndpoint } from './endpoint.js';
import { CostBucket, backoffMs, retryAfterMs, type ThrottleStatus } from './pacing.js';

export type { ThrottleStatus } from './pacing.js';

export type CallOutcome = 'ok' | 'throttled' | 'http-5xx' | 'http-429' | 'network' | 'timeout' | 'error';

/** One HTTP attempt, reported to `onCall` so callers can audit every call, retry and wait. */
export interface CallEvent {
  operation: string;
  /** 1 for the first try of a request, 2 for its first retry, ... */
  attempt: number;
  outcome: CallOutcome;
  status?: number;
  requestedCost?: number;
  actualCost?: number;
  throttleStatus?: ThrottleStatus;
  latencyMs: number;
  /** Time waited before this attempt (pacing for the bucket plus backoff). */
  waitedMs: number;
  /** Why it failed (redacted), when it did. */
  message?: string;
}

export interface ClientCounters {
  /** HTTP attempts sent (GraphQL and bulk result downloads). */
  calls: number;
  /** Attempts that repeated an earlier one. */
  retries: number;
  /** Answers that were THROTTLED. */
  throttled: number;
  /** Times the client waited for the bucket to refill (before a call, or after THROTTLED). */
  throttledWaits: number;
  /** Total time spent waiting (pacing and backoff). */
  waitedMs: number;
}

export interface RequestCost {
  requested: number;
  actual: number;
  throttleStatus?: ThrottleStatus;
}

export interface RequestResult<T> {
  data: T;
  cost: RequestCost;
  attempts: number;
  /** Latency of the attempt that succeeded. */
  latencyMs: number;
  /** Time waited across all attempts of this request. */
  waitedMs: number;
}

export interface RequestOptions {
  /** Names the call in events and errors; defaults to the document's operation name. */
  operationName?: string;
  /** Points the call is expected to cost; defaults to the last requested cost seen for this operation, else DEFAULT_EXPECTED_COST. */
  expectedCost?: number;
}

export interface ShopifyClientOptions {
  fetch?: typeof fetch;
  /** Where SHOPIFY_ADMIN_TOKEN and INVRECON_SHOPIFY_ENDPOINT are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  onCall?: (event: CallEvent) => void;
  /** Retries after the first attempt before giving up (default 8). */
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Per-attempt timeout (default config shopify.timeoutMs). */
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

export interface ShopifyClient {
  readonly shop: string;
  readonly apiVersion: string;
  readonly endpoint: ShopifyEndpoint;
  readonly counters: Readonly<ClientCounters>;
  /** The client's model of the rate-limit bucket (undefined until the first answer). */
  throttleStatus(): ThrottleStatus | undefined;
  /** Notices worth showing the user (for example an API version the library does not know). */
  readonly warnings: string[];
  /** The API version Shopify says it served (X-Shopify-API-Version of the last answer), when it says. */
  servedApiVersion(): string | undefined;
  request<T>(document: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<RequestResult<T>>;
  /**
   * GET a file Shopify points to (a bulk operation result), without the access token, retried on
   * 5xx, 429 and network errors. The timeout covers the wait for headers; `signal` aborts the body.
   */
  download(url: string, signal?: AbortSignal): Promise<Response>;
}

interface GraphQLErrorShape {
  message?: string;
  extensions?: { code?: string; [key: string]: unknown };
  path?: unknown[];
}

/** Top-level GraphQL errors (other than THROTTLED): not retried, the codes let callers react. */
export class ShopifyGraphQLError extends SourceError {
  readonly operation: string;
  readonly codes: string[];
  /** The errors' `extensions` (for example MAX_COST_EXCEEDED carries `cost` and `maxCost`). */
  readonly extensions: Record<string, unknown>[];
  constructor(operation: string, errors: GraphQLErrorShape[]) {
    // Shopify's messages can run to several paragraphs: the first line says it.
    const messages = errors.map((e) => {
      const text = (e.message ?? 'error').split('\n')[0]!.trim();
      return e.extensions?.code ? `${text} (${e.extensions.code})` : text;
    });
    super(redactSecrets(`Shopify ${operation}: ${messages[0] ?? 'unknown error'}`), messages.slice(1).map(redactSecrets));
    this.operation = operation;
    this.codes = errors.map((e) => e.extensions?.code).filter((c): c is string => typeof c === 'string');
    this.extensions = errors.map((e) => e.extensions ?? {});
  }
}

export const DEFAULT_MAX_RETRIES = 8;
/** What an operation never seen before is expected to cost (Shopify's price of a simple mutation). */
export const DEFAULT_EXPECTED_COST = 10;

export function operationNameOf(document: string): string {
  return /\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(document)?.[1] ?? 'anonymous';
}

/** The access token, from the environment only. */
export function requireToken(env: NodeJS.ProcessEnv = process.env): string {
  const token = env[TOKEN_ENV]?.trim();
  if (!token) {
    throw new InputError(`${TOKEN_ENV} is not set: export the Shopify Admin API access token in the environment (invrecon never reads it from the config or files)`);
  }
  return token;
}

type Attempt =
  | { kind: 'ok'; data: unknown; cost?: RawCost; status: number }
  | { kind: 'throttled'; cost?: RawCost; status: number }
  | { kind: 'http-5xx' | 'http-429'; status: number; retryAfter?: number }
  | { kind: 'network' | 'timeout'; message: string }
  | { kind: 'error'; error: SourceError; status?: number; cost?: RawCost };

interface RawCost {
  requestedQueryCost?: number;
  actualQueryCost?: number | null;
  throttleStatus?: ThrottleStatus;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause ? (cause.code ?? cause.message) : undefined;
  return detail ? `${errorMessage(error)}: ${detail}` : errorMessage(error);
}

function validStatus(value: unknown): ThrottleStatus | undefined {
  const s = value as Partial<ThrottleStatus> | undefined;
  if (!s || typeof s.maximumAvailable !== 'number' || typeof s.currentlyAvailable !== 'number' || typeof s.restoreRate !== 'number') return undefined;
  return { maximumAvailable: s.maximumAvailable, currentlyAvailable: s.currentlyAvailable, restoreRate: s.restoreRate };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createShopifyClient(config: LoadedConfig, options: ShopifyClientOptions = {}): ShopifyClient {
  const env = options.env ?? process.env;
  const token = requireToken(env);
  registerSecret(token);
  const endpoint = resolveEndpoint(config.shopify.shop, config.shopify.apiVersion, env);
  const fetchImpl = options.fetch ?? fetch;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const maxTries = (options.maxRetries ?? DEFAULT_MAX_RETRIES) + 1;
  const timeoutMs = options.timeoutMs ?? config.shopify.timeoutMs;
  const backoff = (retry: number) => backoffMs(retry, random, options.backoffBaseMs, options.backoffCapMs);
  const warnings: string[] = [];
  let servedVersion: string | undefined;

  const api = createAdminApiClient({
    storeDomain: config.shopify.shop,
    apiVersion: config.shopify.apiVersion,
    accessToken: token,
    userAgentPrefix: `invrecon/${toolVersion}`,
    // The library builds https://{shop}/...; every request goes to the resolved endpoint instead.
    customFetchApi: async (_url, init) => {
      try {
        const response = await fetchImpl(endpoint.graphqlUrl, init as RequestInit);
        servedVersion = response.headers.get('x-shopify-api-version') ?? servedVersion;
        return response;
      } catch (error) {
        // The library keeps only the message: carry the cause (ECONNRESET, ...) in it.
        throw new Error(describeNetworkError(error));
      }
    },
    logger: (log) => {
      if (log.type === 'Unsupported_Api_Version') {
        warnings.push(`API version ${config.shopify.apiVersion} (shopify.apiVersion) is not one the Shopify client library lists as supported today`);
      }
    },
  });

  const counters: ClientCounters = { calls: 0, retries: 0, throttled: 0, throttledWaits: 0, waitedMs: 0 };
  const bucket = new CostBucket(now);
  const lastRequested = new Map<string, number>();
  // Pacing decisions are taken one at a time, so concurrent callers queue for the bucket.
  let gate: Promise<unknown> = Promise.resolve();

  function pace(expected: number): Promise<number> {
    const turn = gate.then(async () => {
      const wait = bucket.waitFor(expected);
      if (wait > 0) {
        counters.throttledWaits++;
        await sleep(wait);
      }
      bucket.reserve(expected);
      return wait;
    });
    gate = turn.catch(() => undefined);
    return turn;
  }

  async function attemptOnce(operation: string, document: string, variables: Record<string, unknown> | undefined): Promise<Attempt> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const failed = (error: unknown): Attempt =>
      controller.signal.aborted ? { kind: 'timeout', message: `no answer within ${timeoutMs} ms (shopify.timeoutMs)` } : { kind: 'network', message: redactSecrets(describeNetworkError(error)) };
    try {
      let response: Response;
      try {
        response = await api.fetch(document, { variables, signal: controller.signal });
      } catch (error) {
        return failed(error);
      }
      const { status } = response;
      if (status === 429 || status >= 500) {
        await response.body?.cancel().catch(() => undefined);
        return status === 429 ? { kind: 'http-429', status, retryAfter: retryAfterMs(response.headers.get('retry-after'), now()) } : { kind: 'http-5xx', status };
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        return failed(error);
      }
      if (status === 401 || status === 403) {
        return { kind: 'error', status, error: new SourceError(`Shopify ${operation}: HTTP ${status}: the access token was refused; check ${TOKEN_ENV} and the app's access scopes (read_inventory, write_inventory, read_locations)`) };
      }
      if (status < 200 || status >= 300) {
        return { kind: 'error', status, error: new SourceError(redactSecrets(`Shopify ${operation}: HTTP ${status} from ${endpoint.graphqlUrl}: ${text.slice(0, 200)}`)) };
      }
      let body: { data?: unknown; errors?: GraphQLErrorShape[]; extensions?: { cost?: RawCost } };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        return { kind: 'error', status, error: new SourceError(redactSecrets(`Shopify ${operation}: the answer is not JSON: ${text.slice(0, 200)}`)) };
      }
      const cost = body.extensions?.cost;
      const errors = Array.isArray(body.errors) ? body.errors : [];
      if (errors.some((e) => e.extensions?.code === 'THROTTLED')) return { kind: 'throttled', cost, status };
      // An error answer still reports the bucket (MAX_COST_EXCEEDED does): keep the model current.
      if (errors.length > 0) return { kind: 'error', status, error: new ShopifyGraphQLError(operation, errors), cost };
      if (body.data === undefined || body.data === null) {
        return { kind: 'error', status, error: new SourceError(`Shopify ${operation}: the answer has neither data nor errors`) };
      }
      return { kind: 'ok', data: body.data, cost, status };
    } finally {
      clearTimeout(timer);
    }
  }

  async function request<T>(document: string, variables?: Record<string, unknown>, opts: RequestOptions = {}): Promise<RequestResult<T>> {
    const operation = opts.operationName ?? operationNameOf(document);
    let backoffWait = 0;
    let waitedTotal = 0;
    let lastCause = '';
    for (let attempt = 1; attempt <= maxTries; attempt++) {
      let waited = 0;
      if (backoffWait > 0) {
        await sleep(backoffWait);
        waited += backoffWait;
      }
      const expected = opts.expectedCost ?? lastRequested.get(operation) ?? DEFAULT_EXPECTED_COST;
      waited += await pace(expected);
      counters.waitedMs += waited;
      waitedTotal += waited;
      counters.calls++;
      if (attempt > 1) counters.retries++;

      const started = now();
      // The same document and variables on every attempt: a retried mutation keeps its @idempotent key.
      const result = await attemptOnce(operation, document, variables);
      const latencyMs = now() - started;
      const cost = 'cost' in result ? result.cost : undefined;
      const failed = result.kind === 'error';
      const status = validStatus(cost?.throttleStatus);
      if (status) bucket.observe(status);
      // A refused query's cost says nothing about the next, differently sized, call of that operation.
      if (typeof cost?.requestedQueryCost === 'number' && !failed) lastRequested.set(operation, cost.requestedQueryCost);
      options.onCall?.({
        operation,
        attempt,
        outcome: result.kind,
        status: 'status' in result ? result.status : undefined,
        requestedCost: cost?.requestedQueryCost,
        actualCost: cost?.actualQueryCost ?? undefined,
        throttleStatus: status,
        latencyMs,
        waitedMs: waited,
        message: result.kind === 'error' ? result.error.message : 'message' in result ? result.message : undefined,
      });

      switch (result.kind) {
        case 'ok':
          return {
            data: result.data as T,
            cost: { requested: cost?.requestedQueryCost ?? 0, actual: cost?.actualQueryCost ?? 0, throttleStatus: status },
            attempts: attempt,
            latencyMs,
            waitedMs: waitedTotal,
          };
        case 'error':
          throw result.error;
        case 'throttled': {
          counters.throttled++;
          const requested = cost?.requestedQueryCost;
          if (status && requested !== undefined && requested > status.maximumAvailable) {
            // Waiting cannot help: the bucket never holds that many points.
            throw new ShopifyGraphQLError(operation, [
              { message: `query cost ${requested} exceeds the bucket maximum of ${status.maximumAvailable}`, extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: status.maximumAvailable } },
            ]);
          }
          lastCause = `THROTTLED (requested ${requested ?? '?'} points, ${status ? Math.floor(status.currentlyAvailable) : '?'} available)`;
          // The next attempt's pacing waits for the refill the status implies; the jitter spreads callers out.
          if (requested === undefined || !status) counters.throttledWaits++;
          backoffWait = backoff(attempt);
          break;
        }
        case 'http-5xx':
        case 'http-429':
          lastCause = `HTTP ${result.status}`;
          backoffWait = Math.max(backoff(attempt), result.kind === 'http-429' ? (result.retryAfter ?? 0) : 0);
          break;
        case 'network':
        case 'timeout':
          lastCause = result.message;
          backoffWait = backoff(attempt);
          break;
      }
    }
    throw new SourceError(redactSecrets(`Shopify ${operation}: gave up after ${maxTries} tries; last cause: ${lastCause}`));
  }

  async function download(url: string, signal?: AbortSignal): Promise<Response> {
    const target = new URL(url, endpoint.graphqlUrl);
    assertSafeUrl(target, 'bulk operation result URL', SourceError);
    const operation = 'bulkResultDownload';
    let backoffWait = 0;
    let lastCause = '';
    for (let attempt = 1; attempt <= maxTries; attempt++) {
      if (backoffWait > 0) {
        await sleep(backoffWait);
        counters.waitedMs += backoffWait;
      }
      counters.calls++;
      if (attempt > 1) counters.retries++;
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      const started = now();
      let outcome: CallOutcome;
      let httpStatus: number | undefined;
      let delivered = false;
      try {
        // No access token here: the URL is signed, and the token must not leave for another host.
        const response = await fetchImpl(target, { signal: controller.signal });
        httpStatus = response.status;
        if (response.ok) {
          options.onCall?.({ operation, attempt, outcome: 'ok', status: response.status, latencyMs: now() - started, waitedMs: backoffWait });
          delivered = true; // the caller's signal keeps governing the body
          return response;
        }
        await response.body?.cancel().catch(() => undefined);
        if (response.status !== 429 && response.status < 500) {
          const error = new SourceError(`Shopify ${operation}: HTTP ${response.status} for the bulk result file`);
          options.onCall?.({ operation, attempt, outcome: 'error', status: response.status, latencyMs: now() - started, waitedMs: backoffWait, message: error.message });
          throw error;
        }
        outcome = response.status === 429 ? 'http-429' : 'http-5xx';
        lastCause = `HTTP ${response.status}`;
      } catch (error) {
        if (error instanceof SourceError) throw error;
        if (signal?.aborted) throw error;
        outcome = controller.signal.aborted ? 'timeout' : 'network';
        lastCause = outcome === 'timeout' ? `no answer within ${timeoutMs} ms (shopify.timeoutMs)` : describeNetworkError(error);
      } finally {
        clearTimeout(timer);
        if (!delivered) signal?.removeEventListener('abort', onAbort);
      }
      options.onCall?.({ operation, attempt, outcome, status: httpStatus, latencyMs: now() - started, waitedMs: backoffWait, message: lastCause });
      backoffWait = backoff(attempt);
    }
    throw new SourceError(redactSecrets(`Shopify ${operation}: gave up after ${maxTries} tries; last cause: ${lastCause}`));
  }

  return {
    shop: config.shopify.shop,
    apiVersion: config.shopify.apiVersion,
    endpoint,
    counters,
    warnings,
    servedApiVersion: () => servedVersion,
    throttleStatus: () => bucket.known,
    request,
    download,
  };
}
