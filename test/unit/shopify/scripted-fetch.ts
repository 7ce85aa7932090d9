// Test doubles for the Shopify client: a fake clock whose sleep advances time, and a scripted fetch.
import { resolveConfig, type LoadedConfig } from '../../../src/config/load.js';
import type { ThrottleStatus } from '../../../src/sources/shopify/pacing.js';

export function testConfig(shopify: Record<string, unknown> = {}): LoadedConfig {
  return resolveConfig(
    {
      shopify: { shop: 'acme.myshopify.com', ...shopify },
      erp: { csv: { path: 'erp.csv' } },
      locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main Warehouse' }],
    },
    '/tmp/invrecon-test/invrecon.config.json',
  );
}

export class FakeClock {
  t = 1_000_000;
  sleeps: number[] = [];
  now = (): number => this.t;
  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.t += ms;
  };
}

export interface SentRequest {
  url: string;
  headers: Record<string, string>;
  body: { query: string; variables?: Record<string, unknown> };
}

export type Reply = Response | Error | ((request: SentRequest, signal?: AbortSignal) => Promise<Response>);

/** The URL a fetch was called with, in any of fetch's spellings. */
export function requestUrl(input: string | URL | Request): string {
  return input instanceof Request ? input.url : input.toString();
}

/** A fetch that answers from a script, one reply per call, and records what was sent. */
export function scriptedFetch(replies: Reply[]): { fetch: typeof fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const fake = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => (headers[key] = value));
    const request: SentRequest = { url: requestUrl(input), headers, body: typeof init?.body === 'string' ? JSON.parse(init.body) : { query: '' } };
    sent.push(request);
    const reply = replies.shift();
    if (reply === undefined) throw new Error(`unexpected call #${sent.length}`);
    if (reply instanceof Error) throw reply;
    if (typeof reply === 'function') return reply(request, init?.signal ?? undefined);
    return reply;
  }) as typeof fetch;
  return { fetch: fake, sent };
}

export function cost(requested: number, status: ThrottleStatus, actual = requested) {
  return { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: status };
}

export function ok(data: unknown, extensionsCost?: ReturnType<typeof cost>): Response {
  return Response.json({ data, ...(extensionsCost ? { extensions: { cost: extensionsCost } } : {}) });
}

export function throttled(requested: number, status: ThrottleStatus): Response {
  return Response.json({
    errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
    extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status } },
  });
}

export function status(code: number, body = 'oops', headers: Record<string, string> = {}): Response {
  return new Response(body, { status: code, headers });
}

export function networkError(code = 'ECONNRESET'): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code }) });
}

/** Never answers; rejects when the client's timeout aborts it. */
export function hang(): Reply {
  return (_request, signal) =>
    new Promise<Response>((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')));
    });
}
