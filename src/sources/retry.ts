// The one retry loop of every HTTP caller (Shopify GraphQL and bulk downloads, ERP APIs, alert webhooks):
// one backoff formula, one way to classify a failure, a short budget for an endpoint that is not there,
// and a notice on stderr for every wait long enough to be noticed.
import { errorMessage } from '../errors.js';
import { redactSecrets } from '../secrets.js';

/**
 * What one attempt came to. `connect`: the request never reached the server (connection refused, no
 * such host): retried on a short budget, since waiting rarely brings a dead endpoint back.
 * `waitAtLeastMs`: the server said when to come back (Retry-After).
 */
export type Try<T> = { ok: T } | { retry: string; connect?: boolean; waitAtLeastMs?: number };

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Retries for failures that never reached the server (default 2). */
  connectRetries?: number;
  /** First backoff; doubles per retry. */
  baseMs?: number;
  /** Cap on one wait, a server's Retry-After included. */
  capMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told of every wait over `noticeAfterMs` (default: a line on stderr). */
  notice?: (message: string) => void;
  /** Waits at least this long are told (default 1000 ms). */
  noticeAfterMs?: number;
  /** Names the request in notices and the final error: an operation and its URL, without credentials. */
  what: string;
}

/** Gave up: every attempt failed. `lastCause` says why the last one did. */
export class RetriesExhaustedError extends Error {
  constructor(
    message: string,
    readonly lastCause: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export const DEFAULT_CONNECT_RETRIES = 2;
export const NOTICE_AFTER_MS = 1000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const defaultNotice = (message: string) => void process.stderr.write(redactSecrets(message) + '\n');

/** Exponential backoff with equal jitter: half of min(cap, base · 2^(retry−1)) fixed, half random. */
export function backoffMs(retry: number, random: () => number = Math.random, baseMs = 250, capMs = 20_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Retry-After (delta-seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (text === '') return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** HTTP statuses worth another try: rate limits, timeouts and the server's own failures. */
export function retryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** The system error code behind a fetch failure (ECONNRESET, ENOTFOUND, ...), if any. */
export function networkCode(error: unknown): string | undefined {
  let at: unknown = error;
  for (let depth = 0; depth < 4 && at; depth++) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    at = (at as { cause?: unknown }).cause;
  }
  // Some libraries keep only the message ("fetch failed: ECONNREFUSED").
  return /\b(E[A-Z]{3,}[A-Z_]*)\b/.exec(errorMessage(error))?.[1];
}

/** True when the request cannot have reached the server: nothing was sent, so nothing can have been applied. */
export function neverSent(error: unknown): boolean {
  const code = networkCode(error);
  return code !== undefined && CONNECT_CODES.has(code);
}

/** A failed fetch, classified: the message names the system error, and `connect` says it never left. */
export function networkFailure(error: unknown): { retry: string; connect: boolean } {
  const code = networkCode(error);
  const message = errorMessage(error);
  return { retry: code && !message.includes(code) ? `${message}: ${code}` : message, connect: neverSent(error) };
}

/**
 * Runs `attempt` until it succeeds, throws (a final failure), or the retries run out. Waits between
 * attempts: the backoff, or longer when the server asked for it, never more than `capMs`.
 */
export async function withRetry<T>(policy: RetryPolicy, attempt: (n: number) => Promise<Try<T>>): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  const notice = policy.notice ?? defaultNotice;
  const capMs = policy.capMs ?? 20_000;
  const connectRetries = Math.min(policy.retries, policy.connectRetries ?? DEFAULT_CONNECT_RETRIES);
  let connectFailures = 0;
  for (let n = 1; ; n++) {
    const result = await attempt(n);
    if ('ok' in result) return result.ok;
    if (result.connect) connectFailures++;
    const retriesLeft = result.connect ? connectFailures <= connectRetries : n <= policy.retries;
    if (!retriesLeft || n > policy.retries) {
      throw new RetriesExhaustedError(
        redactSecrets(`${policy.what}: gave up after ${n} ${n === 1 ? 'try' : 'tries'}; last cause: ${result.retry}`),
        result.retry,
        n,
      );
    }
    const wait = Math.min(capMs, Math.max(backoffMs(n, policy.random, policy.baseMs, capMs), result.waitAtLeastMs ?? 0));
    if (wait >= (policy.noticeAfterMs ?? NOTICE_AFTER_MS))
      notice(`${policy.what}: ${result.retry}; retry ${n}/${policy.retries} in ${(wait / 1000).toFixed(1)} s`);
    await sleep(wait);
  }
}
