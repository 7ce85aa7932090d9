import type { LoadedConfig } from '../config/load.js';
import { InputError } from '../errors.js';
import { redactSecrets, redactUrl, registerSecretUrl } from '../secrets.js';
import { RetriesExhaustedError, networkFailure, retryableStatus, withRetry, type RetryPolicy } from '../sources/retry.js';
import { parseConfiguredUrl } from '../sources/shopify/endpoint.js';
import { leftOutLine, plural, signed } from '../text.js';
import type { LeftOut } from '../reconcile/diff-model.js';
import type { AlertRecord, DriftingLevel, SyncSummary } from './runs.js';

export type AlertsConfig = NonNullable<LoadedConfig['alerts']>;

export interface AlertDecision {
  reasons: string[];
  /** Levels above alerts.maxDeviation after the sync, largest first. */
  deviations: DriftingLevel[];
  /** Levels off by more than maxDeviation in all (deviations may list only the largest of them). */
  deviationCount: number;
}

const FAILING = new Set(['error', 'refused', 'conflicts', 'interrupted']);

/**
 * Whether this sync deserves an alert: a level still off by more than maxDeviation, or (onFailure) a
 * sync that failed, was refused by a guard, or left conflicts. `remaining` are the levels that still
 * differ after the sync (a large sync passes only the largest, and `remainingCount` for how many in all).
 */
export function decideAlert(
  alerts: LoadedConfig['alerts'],
  summary: Pick<SyncSummary, 'outcome' | 'error' | 'conflicts' | 'failed'>,
  remaining: DriftingLevel[],
  remainingCount?: number,
): AlertDecision {
  if (!alerts) return { reasons: [], deviations: [], deviationCount: 0 };
  const reasons: string[] = [];
  let deviations: DriftingLevel[] = [];
  let deviationCount = 0;
  if (alerts.maxDeviation !== undefined) {
    const limit = alerts.maxDeviation;
    deviations = remaining.filter((level) => Math.abs(level.delta) > limit).sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta));
    deviationCount = remainingCount ?? deviations.length;
    if (deviations.length > 0) {
      const worst = deviations[0]!;
      reasons.push(
        `${plural(deviationCount, 'level')} off by more than ${limit} (alerts.maxDeviation) after the sync; largest ${worst.sku} @ ${worst.locationName} ${signed(worst.delta)}`,
      );
    }
  }
  if (alerts.onFailure && FAILING.has(summary.outcome)) {
    if (summary.outcome === 'conflicts') reasons.push(`the apply left ${summary.conflicts + summary.failed} level(s) unapplied (conflicts or failures)`);
    else if (summary.outcome === 'refused') reasons.push('a guard refused the plan: nothing was applied');
    else reasons.push(`the sync ${summary.outcome === 'interrupted' ? 'was interrupted' : 'failed'}${summary.error ? `: ${summary.error}` : ''}`);
  }
  return { reasons, deviations, deviationCount };
}

/** The webhook URL from the config or its environment variable, checked (https, or http to loopback). */
export function resolveWebhookUrl(alerts: LoadedConfig['alerts'], env: NodeJS.ProcessEnv = process.env): URL | undefined {
  if (!alerts) return undefined;
  let text = alerts.webhookUrl;
  let where = 'alerts.webhookUrl';
  if (alerts.webhookUrlEnv) {
    where = `${alerts.webhookUrlEnv} (alerts.webhookUrlEnv)`;
    text = env[alerts.webhookUrlEnv]?.trim();
    if (!text) throw new InputError(`${where} is not set: export the webhook URL, or remove alerts.webhookUrlEnv`);
  }
  if (!text) return undefined;
  // Webhook URLs often carry their secret in the path: never print them, in any spelling.
  registerSecretUrl(text);
  return parseConfiguredUrl(
    text,
    where,
    'user:password@ in a webhook URL is not sent by fetch and would be logged; use the URL the webhook service gave, without credentials',
  );
}

export interface AlertPayload {
  text: string;
  event: 'sync-alert';
  shop: string;
  runId: number;
  outcome: string;
  dryRun: boolean;
  reasons: string[];
  maxDeviation: number | null;
  deviations: DriftingLevel[];
  summary: { levelsCompared: number; drifting: number; applied: number; conflicts: number; remaining: number };
  /** Levels the plan left out (untracked items, inactive locations): never written, so no drift either; null when it did not plan. */
  leftOut: LeftOut | null;
  /** The same per location, where there are any. */
  leftOutByLocation: { locationName: string; levels: number }[];
}

/** What `invrecon watch` posts when its queue keeps growing or its writes keep failing. */
export interface WatchAlertPayload {
  text: string;
  event: 'watch-alert';
  shop: string;
  reason: 'queue' | 'writes-failing';
  queueDepth: number;
  consecutiveFailures: number;
  lastError: string | null;
}

export function alertPayload(config: LoadedConfig, runId: number, summary: SyncSummary, decision: AlertDecision): AlertPayload {
  const lines = decision.deviations
    .slice(0, 10)
    .map((d) => `• ${d.sku} @ ${d.locationName}: target ${d.target ?? '?'}, Shopify ${d.observed ?? '?'} (${signed(d.delta)})`);
  const more = decision.deviationCount > 10 ? [`… and ${decision.deviationCount - 10} more`] : [];
  const text = [
    `invrecon sync #${runId} on ${config.shopify.shop} (${summary.dryRun ? 'dry run' : 'commit'}): ${summary.outcome}`,
    ...decision.reasons.map((r) => `- ${r}`),
    ...lines,
    ...more,
    ...(summary.leftOut?.levels ? [`(${leftOutLine(summary.leftOut)}: never written, not counted as drift)`] : []),
  ].join('\n');
  return {
    text: redactSecrets(text),
    event: 'sync-alert',
    shop: config.shopify.shop,
    runId,
    outcome: summary.outcome,
    dryRun: summary.dryRun,
    reasons: decision.reasons.map(redactSecrets),
    maxDeviation: config.alerts?.maxDeviation ?? null,
    deviations: decision.deviations.slice(0, 100),
    summary: {
      levelsCompared: summary.levelsCompared,
      drifting: summary.drifting,
      applied: summary.applied,
      conflicts: summary.conflicts + summary.failed,
      remaining: summary.remaining,
    },
    leftOut: summary.leftOut ?? null,
    leftOutByLocation: summary.byLocation.flatMap((l) => (l.leftOut ? [{ locationName: l.locationName, levels: l.leftOut }] : [])),
  };
}

export interface PostOptions {
  timeoutMs: number;
  retries: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** First backoff; doubles per retry. */
  backoffMs?: number;
}

/**
 * POSTs the alert; retries 5xx, 429, timeouts and network errors. Never throws: the outcome is
 * returned for the run record. Redirects are not followed (they could leave loopback or https).
 */
export async function postWebhook(url: URL, payload: AlertPayload | WatchAlertPayload, options: PostOptions): Promise<AlertRecord['webhook']> {
  const fetchImpl = options.fetch ?? fetch;
  const started = performance.now();
  const body = JSON.stringify(payload);
  let attempts = 0;
  let last: { status?: number; error: string } = { error: 'not sent' };
  const policy: RetryPolicy = {
    retries: options.retries,
    baseMs: options.backoffMs ?? 500,
    sleep: options.sleep,
    what: `alert webhook ${redactUrl(url.href)}`,
  };
  try {
    const status = await withRetry<number>(policy, async (n) => {
      attempts = n;
      try {
        const response = await fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'invrecon-alerts' },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.status >= 200 && response.status < 300) return { ok: response.status };
        last = { status: response.status, error: `HTTP ${response.status}` };
        if (!retryableStatus(response.status)) throw new AlertRefused();
        return { retry: last.error };
      } catch (error) {
        if (error instanceof AlertRefused) throw error;
        const failure = networkFailure(error);
        last = { error: (error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : failure.retry };
        return { retry: last.error, connect: failure.connect };
      }
    });
    return { configured: true, sent: true, attempts, status, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    if (!(error instanceof AlertRefused || error instanceof RetriesExhaustedError)) throw error;
    return {
      configured: true,
      sent: false,
      attempts,
      status: last.status,
      error: redactSecrets(last.error),
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/** A status that another try would not change (4xx but 408/429). */
class AlertRefused extends Error {}
