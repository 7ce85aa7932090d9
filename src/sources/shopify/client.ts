// The Shopify Admin GraphQL client: pacing by the cost bucket, retries through the one retry helper,
// an event per HTTP attempt for the audit log. One HTTP attempt is graphql-attempt.ts; bulk result
// files are download.ts.
import { createAdminApiClient } from '@shopify/admin-api-client';
import type { LoadedConfig } from '../../config/load.js';
import { InputError } from '../../errors.js';
import { TOKEN_ENV, redactSecrets, redactUrl, registerSecret } from '../../secrets.js';
import { toolVersion } from '../../version.js';
import { RetriesExhaustedError, withRetry, type RetryPolicy, type Try } from '../retry.js';
import type { ClientCounters, RequestOptions, RequestResult, ShopifyClient, ShopifyClientOptions } from './client-types.js';
import { downloadResult } from './download.js';
import { resolveEndpoint } from './endpoint.js';
import { ShopifyGraphQLError, ShopifyUnreachableError } from './errors.js';
import { describeNetworkError, graphqlAttempt, mayHaveRun, validStatus } from './graphql-attempt.js';
import { CostBucket, createPacer } from './pacing.js';

export type { ThrottleStatus } from './pacing.js';
export type * from './client-types.js';
export { ShopifyGraphQLError, ShopifyUnreachableError } from './errors.js';

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
    throw new InputError(
      `${TOKEN_ENV} is not set: export the Shopify Admin API access token in the environment (invrecon never reads it from the config or files)`,
    );
  }
  return token;
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
  const timeoutMs = options.timeoutMs ?? config.shopify.timeoutMs;
  const policy: Omit<RetryPolicy, 'what'> = {
    retries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    connectRetries: options.connectRetries,
    baseMs: options.backoffBaseMs,
    capMs: options.backoffCapMs,
    random: options.random,
    sleep,
    notice: options.notice,
  };
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
        const response = await fetchImpl(endpoint.graphqlUrl, init);
        servedVersion = response.headers.get('x-shopify-api-version') ?? servedVersion;
        return response;
      } catch (error) {
        // The library keeps only the message: carry the cause (ECONNRESET, ...) in it.
        throw new Error(describeNetworkError(error), { cause: error });
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
  const pacer = createPacer(bucket, sleep, () => counters.throttledWaits++);
  const lastRequested = new Map<string, number>();
  const where = redactUrl(endpoint.graphqlUrl);

  async function request<T>(document: string, variables?: Record<string, unknown>, opts: RequestOptions = {}): Promise<RequestResult<T>> {
    const operation = opts.operationName ?? operationNameOf(document);
    let waitedTotal = 0;
    let backoffStarted: number | undefined;
    let uncertain = false;
    const attemptPolicy: RetryPolicy = { ...policy, what: `Shopify ${operation} at ${where}` };
    try {
      return await withRetry<RequestResult<T>>(attemptPolicy, async (attempt): Promise<Try<RequestResult<T>>> => {
        let waited = backoffStarted === undefined ? 0 : now() - backoffStarted;
        const expected = opts.expectedCost ?? lastRequested.get(operation) ?? DEFAULT_EXPECTED_COST;
        const { waited: paced, ticket } = await pacer.pace(expected, opts.aheadOfQueue);
        // Checked once paced, right before the call goes: a wait for the bucket may have been long.
        try {
          await opts.beforeAttempt?.();
        } catch (error) {
          pacer.cancel(ticket);
          throw error;
        }
        opts.onSent?.();
        waited += paced;
        counters.waitedMs += waited;
        waitedTotal += waited;
        counters.calls++;
        if (attempt > 1) counters.retries++;

        const started = now();
        // The same document and variables on every attempt: a retried mutation keeps its @idempotent key.
        const result = await graphqlAttempt({
          operation,
          url: endpoint.graphqlUrl,
          timeoutMs,
          now,
          send: (signal) => api.fetch(document, { variables, signal }),
        });
        const latencyMs = now() - started;
        backoffStarted = now();
        const cost = 'cost' in result ? result.cost : undefined;
        const status = validStatus(cost?.throttleStatus);
        // What the server took: nothing for THROTTLED, else the actual cost (the requested one until known).
        const charged = result.kind === 'throttled' ? 0 : (cost?.actualQueryCost ?? cost?.requestedQueryCost ?? undefined);
        pacer.settle(ticket, charged, status);
        // A refused query's cost says nothing about the next, differently sized, call of that operation.
        if (typeof cost?.requestedQueryCost === 'number' && result.kind !== 'error') lastRequested.set(operation, cost.requestedQueryCost);
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
          tag: opts.tag,
        });
        if (mayHaveRun(result)) uncertain = true;

        switch (result.kind) {
          case 'ok':
            return {
              ok: {
                data: result.data as T,
                cost: { requested: cost?.requestedQueryCost ?? 0, actual: cost?.actualQueryCost ?? 0, throttleStatus: status },
                attempts: attempt,
                latencyMs,
                waitedMs: waitedTotal,
                uncertain,
              },
            };
          case 'error':
            throw result.error;
          case 'throttled': {
            counters.throttled++;
            const requested = cost?.requestedQueryCost;
            if (status && requested !== undefined && requested > status.maximumAvailable) {
              // Waiting cannot help: the bucket never holds that many points.
              throw new ShopifyGraphQLError(operation, [
                {
                  message: `query cost ${requested} exceeds the bucket maximum of ${status.maximumAvailable}`,
                  extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: status.maximumAvailable },
                },
              ]);
            }
            // The next attempt's pacing waits for the refill the status implies; the backoff spreads callers out.
            if (requested === undefined || !status) counters.throttledWaits++;
            return { retry: `THROTTLED (requested ${requested ?? '?'} points, ${status ? Math.floor(status.currentlyAvailable) : '?'} available)` };
          }
          case 'http-5xx':
          case 'http-429':
            return { retry: `HTTP ${result.status}`, waitAtLeastMs: result.kind === 'http-429' ? result.retryAfter : undefined };
          case 'network':
            return { retry: result.message, connect: result.connect };
          case 'timeout':
            return { retry: result.message };
        }
      });
    } catch (error) {
      if (error instanceof RetriesExhaustedError) throw new ShopifyUnreachableError(redactSecrets(error.message), uncertain);
      throw error;
    }
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
    download: (url, signal) =>
      downloadResult({ fetch: fetchImpl, base: endpoint.graphqlUrl, timeoutMs, now, counters, policy, onCall: options.onCall }, url, signal),
  };
}
