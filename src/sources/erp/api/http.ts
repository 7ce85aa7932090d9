import { SourceError } from '../../../errors.js';
import { redactSecrets } from '../../../secrets.js';
import { RetriesExhaustedError, backoffMs, neverSent, retryAfterMs, retryableStatus, withRetry, type RetryPolicy, type Try } from '../../retry.js';

export interface HttpClientOptions {
  /** Per attempt, headers and body included. */
  timeoutMs: number;
  /** Retries after the first attempt, on 429, 5xx, timeouts and network errors. */
  retries: number;
  /** First backoff delay; doubles per retry (with jitter). */
  retryDelayMs: number;
  /** Cap on any one wait, a server's Retry-After included. */
  maxRetryDelayMs: number;
  /** Injected in tests to record waits instead of sleeping. */
  sleep?: (ms: number) => Promise<void>;
  /** Retry notices (progress, to stderr by default). */
  log?: (message: string) => void;
  random?: () => number;
  now?: () => number;
}

export interface HttpRequest {
  url: URL;
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** The parsed body for 2xx answers; undefined for a status the caller accepted otherwise. */
  body: unknown;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const defaultLog = (message: string) => process.stderr.write(redactSecrets(message) + '\n');

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export const parseRetryAfter = retryAfterMs;

/** The one backoff formula (sources/retry.ts), counted from retry 0. */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return backoffMs(retry + 1, random, baseMs, maxMs);
}

function describeNetworkError(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no complete answer within ${timeoutMs} ms (timeout)`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return `connection failed (${detail})`;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** Thrown as is (no retry): the answer came but is unusable. */
class FinalError extends Error {}

/**
 * JSON over HTTP with timeouts and retries. One request at a time per call; the body of a page is
 * read and parsed whole (pages are the unit of memory), never the whole data set.
 */
export class HttpJsonClient {
  private readonly sleep;
  private readonly log;
  private readonly random;
  private readonly now;

  constructor(private readonly options: HttpClientOptions) {
    this.sleep = options.sleep ?? defaultSleep;
    this.log = options.log ?? defaultLog;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /**
   * `where` names the request in every message (`https://erp.example.com/api/x page 3`).
   * Statuses in `accept` come back to the caller (body undefined) instead of failing.
   */
  async request(request: HttpRequest, where: string, accept: readonly number[] = [], signal?: AbortSignal): Promise<JsonResponse> {
    const policy: RetryPolicy = {
      retries: this.options.retries,
      baseMs: this.options.retryDelayMs,
      capMs: this.options.maxRetryDelayMs,
      random: this.random,
      sleep: this.sleep,
      notice: this.log,
      noticeAfterMs: 0,
      what: where,
    };
    try {
      return await withRetry(policy, () => this.attempt(request, where, accept, signal));
    } catch (error) {
      if (error instanceof RetriesExhaustedError)
        throw new SourceError(`${where}: ${error.lastCause}; gave up after ${error.attempts} attempt${error.attempts === 1 ? '' : 's'}`);
      throw error;
    }
  }

  private async attempt(request: HttpRequest, where: string, accept: readonly number[], signal?: AbortSignal): Promise<Try<JsonResponse>> {
    if (signal?.aborted) throw new SourceError(`${where}: cancelled`);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await fetch(request.url, {
        method: request.method ?? 'GET',
        headers: { accept: 'application/json', ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}), ...request.headers },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: controller.signal,
        // A redirect could carry credentials elsewhere: report it instead of following it.
        redirect: 'manual',
      });
      if (response.status >= 200 && response.status < 300) {
        const text = await response.text();
        try {
          return { ok: { status: response.status, headers: response.headers, body: JSON.parse(text) as unknown } };
        } catch (error) {
          const reason = text.length === 0 ? 'the body is empty' : `${(error as Error).message} after ${text.length} bytes`;
          throw new FinalError(`${where}: the page is not valid JSON (truncated?): ${reason}`);
        }
      }
      const text = await response.text().catch(() => '');
      if (accept.includes(response.status)) return { ok: { status: response.status, headers: response.headers, body: undefined } };
      const statusLine = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      if (response.status >= 300 && response.status < 400) {
        throw new FinalError(
          `${where}: ${statusLine} redirect to ${response.headers.get('location') ?? '(no location)'}; not followed, set the final address in erp.api.url`,
        );
      }
      if (!retryableStatus(response.status)) {
        const hint = response.status === 401 || response.status === 403 ? ' (check the API credentials and their permissions)' : '';
        throw new FinalError(`${where}: ${statusLine}${hint}${text ? `: ${snippet(text)}` : ''}`);
      }
      return { retry: `${statusLine}${text ? `: ${snippet(text)}` : ''}`, waitAtLeastMs: parseRetryAfter(response.headers.get('retry-after'), this.now()) };
    } catch (error) {
      if (error instanceof FinalError) throw new SourceError(error.message);
      if (signal?.aborted) throw new SourceError(`${where}: cancelled`);
      return { retry: describeNetworkError(error, timedOut, this.options.timeoutMs), connect: !timedOut && neverSent(error) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
