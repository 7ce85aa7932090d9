// The Shopify client's public shapes: what a call reports, what a request returns, how it is configured.
import type { ShopifyEndpoint } from './endpoint.js';
import type { ThrottleStatus } from './pacing.js';

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
  /** The caller's tag for this request (RequestOptions.tag), for example the batch it belongs to. */
  tag?: unknown;
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
  /**
   * An earlier attempt of this request may have reached Shopify (its answer was lost: a timeout, a
   * reset, a 5xx): with a mutation, Shopify may have run it, and may have forgotten its key since.
   */
  uncertain: boolean;
}

export interface RequestOptions {
  /** Names the call in events and errors; defaults to the document's operation name. */
  operationName?: string;
  /** Points the call is expected to cost; defaults to the last requested cost seen for this operation, else DEFAULT_EXPECTED_COST. */
  expectedCost?: number;
  /** Passed back in every CallEvent of this request. */
  tag?: unknown;
  /** Awaited as each attempt goes, once paced (a rejection fails the request): what must be in place before it goes. */
  beforeAttempt?: () => Promise<unknown> | undefined;
  /** Paced ahead of the calls waiting for the bucket (it may be what they wait on). */
  aheadOfQueue?: boolean;
  /** Called as each attempt goes, once paced. */
  onSent?: () => void;
}

export interface ShopifyClientOptions {
  fetch?: typeof fetch;
  /** Where SHOPIFY_ADMIN_TOKEN and INVRECON_SHOPIFY_ENDPOINT are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  onCall?: (event: CallEvent) => void;
  /** Retries after the first attempt before giving up (default 8). */
  maxRetries?: number;
  /** Retries when the endpoint cannot be reached at all (connection refused, no such host; default 2). */
  connectRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Per-attempt timeout (default config shopify.timeoutMs). */
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Told of each retry wait over a second (default: a line on stderr). */
  notice?: (message: string) => void;
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
