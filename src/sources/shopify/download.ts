// GET of a bulk operation's result file: no access token (the URL is signed and may point elsewhere),
// retried through the one retry helper.
import { SourceError } from '../../errors.js';
import { redactSecrets, redactUrl } from '../../secrets.js';
import { RetriesExhaustedError, networkFailure, withRetry, type RetryPolicy, type Try } from '../retry.js';
import type { CallEvent, ClientCounters } from './client-types.js';
import { assertSafeUrl } from './endpoint.js';

export interface DownloadContext {
  fetch: typeof fetch;
  base: string;
  timeoutMs: number;
  now: () => number;
  counters: ClientCounters;
  policy: Omit<RetryPolicy, 'what'>;
  onCall?: (event: CallEvent) => void;
}

const operation = 'bulkResultDownload';

export async function downloadResult(context: DownloadContext, url: string, signal?: AbortSignal): Promise<Response> {
  const target = new URL(url, context.base);
  assertSafeUrl(target, 'bulk operation result URL', SourceError);
  const { counters, now, timeoutMs } = context;
  const sleep = context.policy.sleep;
  let lastWaitStart = now();
  const policy: RetryPolicy = {
    ...context.policy,
    what: `Shopify ${operation} ${redactUrl(target.href)}`,
    // Count the backoff as waited time, as the GraphQL requests do.
    sleep: async (ms) => {
      counters.waitedMs += ms;
      await (sleep ?? ((t: number) => new Promise<void>((resolve) => setTimeout(resolve, t))))(ms);
    },
  };
  try {
    return await withRetry<Response>(policy, async (attempt): Promise<Try<Response>> => {
      const waitedMs = attempt === 1 ? 0 : now() - lastWaitStart;
      counters.calls++;
      if (attempt > 1) counters.retries++;
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      const started = now();
      let delivered = false;
      const report = (outcome: CallEvent['outcome'], status?: number, message?: string) =>
        context.onCall?.({ operation, attempt, outcome, status, latencyMs: now() - started, waitedMs, message });
      try {
        const response = await context.fetch(target, { signal: controller.signal });
        if (response.ok) {
          report('ok', response.status);
          delivered = true; // the caller's signal keeps governing the body
          return { ok: response };
        }
        await response.body?.cancel().catch(() => undefined);
        if (response.status !== 429 && response.status < 500) {
          const error = new SourceError(`Shopify ${operation}: HTTP ${response.status} for the bulk result file`);
          report('error', response.status, error.message);
          throw error;
        }
        report(response.status === 429 ? 'http-429' : 'http-5xx', response.status, `HTTP ${response.status}`);
        return { retry: `HTTP ${response.status}` };
      } catch (error) {
        if (error instanceof SourceError) throw error;
        if (signal?.aborted) throw error;
        const timedOut = controller.signal.aborted;
        const failure = timedOut ? { retry: `no answer within ${timeoutMs} ms (shopify.timeoutMs)`, connect: false } : networkFailure(error);
        report(timedOut ? 'timeout' : 'network', undefined, redactSecrets(failure.retry));
        return failure;
      } finally {
        clearTimeout(timer);
        if (!delivered) signal?.removeEventListener('abort', onAbort);
        lastWaitStart = now();
      }
    });
  } catch (error) {
    if (error instanceof RetriesExhaustedError) throw new SourceError(error.message);
    throw error;
  }
}
