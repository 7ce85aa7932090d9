// One HTTP attempt of a GraphQL call, classified: an answer, THROTTLED, a failure worth retrying, or a
// final error. No retries and no pacing here (client.ts does both).
import { SourceError, errorMessage } from '../../errors.js';
import { TOKEN_ENV, redactSecrets } from '../../secrets.js';
import { neverSent, retryAfterMs } from '../retry.js';
import { ShopifyGraphQLError, type GraphQLErrorShape } from './errors.js';
import type { ThrottleStatus } from './pacing.js';

export interface RawCost {
  requestedQueryCost?: number;
  actualQueryCost?: number | null;
  throttleStatus?: ThrottleStatus;
}

export type Attempt =
  | { kind: 'ok'; data: unknown; cost?: RawCost; status: number }
  | { kind: 'throttled'; cost?: RawCost; status: number }
  | { kind: 'http-5xx' | 'http-429'; status: number; retryAfter?: number }
  /** `connect`: the request never left (connection refused, no such host). */
  | { kind: 'network'; message: string; connect: boolean }
  | { kind: 'timeout'; message: string }
  | { kind: 'error'; error: SourceError; status?: number; cost?: RawCost };

/** An attempt whose request may have reached Shopify without its answer coming back. */
export function mayHaveRun(attempt: Attempt): boolean {
  return attempt.kind === 'timeout' || attempt.kind === 'http-5xx' || (attempt.kind === 'network' && !attempt.connect);
}

export function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause ? (cause.code ?? cause.message) : undefined;
  return detail ? `${errorMessage(error)}: ${detail}` : errorMessage(error);
}

export function validStatus(value: unknown): ThrottleStatus | undefined {
  const s = value as Partial<ThrottleStatus> | undefined;
  if (!s || typeof s.maximumAvailable !== 'number' || typeof s.currentlyAvailable !== 'number' || typeof s.restoreRate !== 'number') return undefined;
  return { maximumAvailable: s.maximumAvailable, currentlyAvailable: s.currentlyAvailable, restoreRate: s.restoreRate };
}

export interface AttemptContext {
  operation: string;
  url: string;
  timeoutMs: number;
  now: () => number;
  send: (signal: AbortSignal) => Promise<Response>;
}

export async function graphqlAttempt(context: AttemptContext): Promise<Attempt> {
  const { operation, timeoutMs } = context;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const failed = (error: unknown): Attempt =>
    controller.signal.aborted
      ? { kind: 'timeout', message: `no answer within ${timeoutMs} ms (shopify.timeoutMs)` }
      : { kind: 'network', message: redactSecrets(describeNetworkError(error)), connect: neverSent(error) };
  try {
    let response: Response;
    try {
      response = await context.send(controller.signal);
    } catch (error) {
      return failed(error);
    }
    const { status } = response;
    if (status === 429 || status >= 500) {
      await response.body?.cancel().catch(() => undefined);
      return status === 429
        ? { kind: 'http-429', status, retryAfter: retryAfterMs(response.headers.get('retry-after'), context.now()) }
        : { kind: 'http-5xx', status };
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return failed(error);
    }
    if (status === 401 || status === 403) {
      return {
        kind: 'error',
        status,
        error: new SourceError(
          `Shopify ${operation}: HTTP ${status}: the access token was refused; check ${TOKEN_ENV} and the app's access scopes (read_inventory, write_inventory, read_locations)`,
        ),
      };
    }
    if (status < 200 || status >= 300) {
      return {
        kind: 'error',
        status,
        error: new SourceError(redactSecrets(`Shopify ${operation}: HTTP ${status} from ${context.url}: ${text.slice(0, 200)}`)),
      };
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
