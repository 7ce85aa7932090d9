// Shopify's inventory_levels/update webhook: one signed POST per change of `available`, delivered at least once
// (retries with backoff, optional duplicates), in no guaranteed order. The contract is in docs/emulator.md.
import { createHmac, randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gidTail } from './store.js';

export interface WebhookOptions {
  /** Where to POST (http or https). */
  url: string;
  /** The app's secret: X-Shopify-Hmac-Sha256 is base64(HMAC-SHA256(secret, raw body)). */
  secret: string;
  /** Fraction (0..1) of delivered webhooks sent a second time, same X-Shopify-Webhook-Id (at-least-once). */
  duplicateRate?: number;
  /** Attempts per webhook before giving up (default 8, Shopify's count). */
  maxAttempts?: number;
  /** First retry delay in ms, doubled after each failure (default 1000). */
  backoffMs?: number;
  /** Each webhook waits a random 0..maxJitterMs before its first attempt, so deliveries overtake each other (default 50). */
  maxJitterMs?: number;
  /** Per-attempt timeout in ms (Shopify: 5 s). */
  timeoutMs?: number;
  /** X-Shopify-API-Version (default 2026-04). */
  apiVersion?: string;
}

export interface WebhookCounters {
  /** Webhooks created (one per change of available). */
  created: number;
  /** HTTP attempts made, retries and duplicates included. */
  attempts: number;
  /** Webhooks answered 2xx. */
  delivered: number;
  retries: number;
  duplicates: number;
  /** Webhooks given up after maxAttempts. */
  failed: number;
}

export interface AvailableChange {
  inventoryItemId: string;
  locationId: string;
  levelId: string;
  available: number;
  at: string;
}

interface Delivery {
  body: string;
  headers: Record<string, string>;
  attempt: number;
}

/** Shopify's REST ids are numbers; a seed gid whose tail is not a safe integer keeps it as a string. */
function legacyId(gid: string): number | string {
  const tail = gidTail(gid);
  return /^\d+$/.test(tail) && Number.isSafeInteger(Number(tail)) ? Number(tail) : tail;
}

export function signWebhook(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

export class WebhookSender {
  readonly counters: WebhookCounters = { created: 0, attempts: 0, delivered: 0, retries: 0, duplicates: 0, failed: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  /** Keep-alive connections, a bounded number: thousands of webhooks a second reuse them instead of opening one each. */
  private readonly agent: HttpAgent;
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private readonly options: Required<WebhookOptions>;

  constructor(
    options: WebhookOptions,
    private readonly shopDomain: string,
    private readonly random: () => number,
    private readonly log: (line: string) => void = () => {},
  ) {
    if (!/^https?:\/\//.test(options.url)) throw new Error(`webhook url must be http:// or https://, got ${JSON.stringify(options.url)}`);
    if (!options.secret) throw new Error('a webhook secret is required to sign webhooks');
    const duplicateRate = options.duplicateRate ?? 0;
    if (!(duplicateRate >= 0 && duplicateRate <= 1)) throw new Error(`webhook duplicateRate must be between 0 and 1, got ${duplicateRate}`);
    this.options = { duplicateRate, maxAttempts: 8, backoffMs: 1000, maxJitterMs: 50, timeoutMs: 5000, apiVersion: '2026-04', ...options };
    if (!(this.options.maxAttempts >= 1)) throw new Error(`webhook maxAttempts must be ≥ 1, got ${this.options.maxAttempts}`);
    const agentOptions = { keepAlive: true, maxSockets: 32 };
    this.agent = options.url.startsWith('https:') ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  /** Queues the inventory_levels/update webhook of one change of available. */
  send(change: AvailableChange): void {
    if (this.closed) return;
    this.counters.created++;
    const payload = {
      inventory_item_id: legacyId(change.inventoryItemId),
      location_id: legacyId(change.locationId),
      available: change.available,
      updated_at: change.at,
      admin_graphql_api_id: change.levelId,
    };
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Shopify-Captain-Hook',
      'x-shopify-topic': 'inventory_levels/update',
      'x-shopify-hmac-sha256': signWebhook(this.options.secret, body),
      'x-shopify-shop-domain': this.shopDomain,
      'x-shopify-api-version': this.options.apiVersion,
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-event-id': randomUUID(),
      'x-shopify-triggered-at': change.at,
    };
    this.pending++;
    this.later(Math.floor(this.random() * (this.options.maxJitterMs + 1)), () => this.attempt({ body, headers, attempt: 1 }, true));
  }

  private later(ms: number, run: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void run();
    }, ms);
    this.timers.add(timer);
  }

  /** One POST; resolves to the status, or the error (network error, or no answer within timeoutMs). */
  private post(delivery: Delivery): Promise<number | Error> {
    const abort = new AbortController();
    this.aborts.add(abort);
    const request = this.options.url.startsWith('https:') ? httpsRequest : httpRequest;
    return new Promise<number | Error>((resolve) => {
      const req = request(
        this.options.url,
        {
          method: 'POST',
          headers: { ...delivery.headers, 'content-length': String(Buffer.byteLength(delivery.body)) },
          agent: this.agent,
          signal: abort.signal,
          timeout: this.options.timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', (error) => resolve(error));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      req.on('error', (error) => resolve(error));
      req.end(delivery.body);
    }).finally(() => this.aborts.delete(abort));
  }

  /** One attempt; `original` is false for the deliberate duplicate, which is sent once and never retried. */
  private async attempt(delivery: Delivery, original: boolean): Promise<void> {
    if (this.closed) return this.settle(original);
    this.counters.attempts++;
    const outcome = await this.post(delivery);
    const ok = typeof outcome === 'number' && outcome >= 200 && outcome < 300;
    if (!original) return;
    if (ok) {
      this.counters.delivered++;
      if (this.random() < this.options.duplicateRate) {
        this.counters.duplicates++;
        await this.attempt(delivery, false);
      }
      return this.settle(true);
    }
    if (delivery.attempt >= this.options.maxAttempts || this.closed) {
      this.counters.failed++;
      this.log(
        `emulator: webhook ${delivery.headers['x-shopify-webhook-id']} given up after ${delivery.attempt} attempts (${typeof outcome === 'number' ? `HTTP ${outcome}` : outcome.message})`,
      );
      return this.settle(true);
    }
    this.counters.retries++;
    const next = { ...delivery, attempt: delivery.attempt + 1 };
    this.later(this.options.backoffMs * 2 ** (delivery.attempt - 1), () => this.attempt(next, true));
  }

  private settle(original: boolean): void {
    if (!original) return;
    this.pending--;
    if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves once every webhook queued so far was delivered or given up. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const abort of this.aborts) abort.abort();
    this.agent.destroy();
    this.pending = 0;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
