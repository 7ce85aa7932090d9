// Shared by the watch e2e tests and bench/watch.ts: a spawned `invrecon watch`, an ERP event driver.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { spawnUrlProcess, type UrlProcess } from '../helpers/emulator-process.js';

export const WATCH_TOKEN = 'watch-e2e-token-5d1f0a';
export const WEBHOOK_SECRET = 'whsec-e2e-8c2b41';

export type WatchProcess = UrlProcess;

/** A free loopback port, so a restarted watch listens where the ERP keeps posting. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `invrecon watch ARGS` in `cwd`, as a user would run it; resolves once it prints its URL. */
export function spawnWatch(cwd: string, env: Record<string, string>, args: string[] = []): Promise<WatchProcess> {
  return spawnUrlProcess('watch', args, {
    cwd,
    env: { ...process.env, NO_COLOR: '1', INVRECON_WATCH_TOKEN: WATCH_TOKEN, SHOPIFY_WEBHOOK_SECRET: WEBHOOK_SECRET, ...env },
  });
}

export interface ErpRowBody {
  sku: string;
  warehouse: string;
  on_hand: number;
  reserved: number;
}

export async function postRows(url: string, rows: unknown, token: string | null = WATCH_TOKEN): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/erp/levels`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof rows === 'string' ? rows : JSON.stringify(rows),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Signs a body as Shopify does: base64 HMAC-SHA256 with the webhook secret. */
export function sign(body: string, secret = WEBHOOK_SECRET): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

export async function postWebhook(url: string, payload: unknown, options: { id?: string; signature?: string } = {}): Promise<{ status: number; body: any }> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${url}/webhooks/shopify`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'inventory_levels/update',
      'x-shopify-hmac-sha256': options.signature ?? sign(body),
      'x-shopify-shop-domain': 'test-shop.myshopify.com',
      'x-shopify-webhook-id': options.id ?? `wh-${Math.random()}`,
    },
    body,
  });
  return { status: response.status, body: await response.json() };
}

export interface Health {
  ok: boolean;
  queueDepth: number;
  inFlight: number;
  lastWrite: string | null;
  leftOut: { levels: number; ofUntrackedItems: number; atInactiveLocations: number };
}

export async function health(url: string): Promise<Health> {
  return (await (await fetch(`${url}/healthz`)).json()) as Health;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls /healthz until nothing is queued or in flight; false if that did not happen within `ms`. */
export async function settled(url: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const h = await health(url).catch(() => undefined);
    if (h && h.queueDepth === 0 && h.inFlight === 0) return true;
    await sleep(100);
  }
  return false;
}

/**
 * Sends `rate` one-row events per second, each retried until a watch answers 202 (a client of a
 * restarting server), so the final ERP state is exactly what the model holds.
 */
export async function driveEvents(options: {
  url: () => string;
  rate: number;
  seconds: number;
  next: (i: number) => ErpRowBody;
  onAccepted?: (row: ErpRowBody, acceptedMs: number) => void;
  midway?: () => Promise<void>;
}): Promise<{ sent: number; retries: number }> {
  const total = Math.round(options.rate * options.seconds);
  const start = Date.now();
  let retries = 0;
  const pending: Promise<void>[] = [];
  let midway: Promise<void> | undefined;
  // Events of one SKU go in order: each waits for the previous one of its SKU to be accepted.
  const lastOfSku = new Map<string, Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / options.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    if (options.midway && i === Math.floor(total / 2)) midway = options.midway();
    const row = options.next(i);
    const before = lastOfSku.get(row.sku) ?? Promise.resolve();
    const send = before.then(async () => {
      for (;;) {
        const result = await postRows(options.url(), [row]).catch(() => ({ status: 0, body: null }));
        if (result.status === 202) {
          options.onAccepted?.(row, Date.now());
          return;
        }
        retries++;
        await sleep(100);
      }
    });
    lastOfSku.set(row.sku, send);
    pending.push(send);
  }
  await Promise.all(pending);
  await midway;
  return { sent: total, retries };
}
