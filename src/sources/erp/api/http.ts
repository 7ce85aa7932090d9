import { SourceError } from '../../../errors.js';
import { redactSecrets } from '../../../secrets.js';

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
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Exponential backoff with "equal jitter": half the doubled delay fixed, half random, so retries spread out. */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
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
    const attempts = this.options.retries + 1;
    let lastProblem = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (signal?.aborted) throw new SourceError(`${where}: cancelled`);
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.options.timeoutMs);
      const onAbort = () => controller.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      let waitMs: number | undefined;
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
            return { status: response.status, headers: response.headers, body: JSON.parse(text) as unknown };
          } catch (error) {
            const reason = text.length === 0 ? 'the body is empty' : `${(error as Error).message} after ${text.length} bytes`;
            throw new FinalError(`${where}: the page is not valid JSON (truncated?): ${reason}`);
          }
        }
        const text = await response.text().catch(() => '');
        if (accept.includes(response.status)) return { status: response.status, headers: response.headers, body: undefined };
        const statusLine = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
        if (response.status >= 300 && response.status < 400) {
          throw new FinalError(`${where}: ${statusLine} redirect to ${response.headers.get('location') ?? '(no location)'}; not followed, set the final address in erp.api.url`);
        }
        if (!isRetryableStatus(response.status)) {
          const hint = response.status === 401 || response.status === 403 ? ' (check the API credentials and their permissions)' : '';
          throw new FinalError(`${where}: ${statusLine}${hint}${text ? `: ${snippet(text)}` : ''}`);
        }
        lastProblem = `${statusLine}${text ? `: ${snippet(text)}` : ''}`;
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'), this.now());
        if (retryAfter !== undefined) waitMs = Math.min(retryAfter, this.options.maxRetryDelayMs);
      } catch (error) {
        if (error instanceof FinalError) throw new SourceError(error.message);
        if (signal?.aborted) throw new SourceError(`${where}: cancelled`);
        lastProblem = describeNetworkError(error, timedOut, this.options.timeoutMs);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
      if (attempt === attempts) break;
      const delay = waitMs ?? backoffDelay(attempt - 1, this.options.retryDelayMs, this.options.maxRetryDelayMs, this.random);
      this.log(`${where}: ${lastProblem}; retry ${attempt}/${this.options.retries} in ${(delay / 1000).toFixed(1)} s`);
      await this.sleep(delay);
    }
    throw new SourceError(`${where}: ${lastProblem}; gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}`);
  }
}
