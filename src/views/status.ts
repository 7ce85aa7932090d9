import type { Status } from '../ops/status.js';
import { formatMs, leftOutLine, num, plural, renderJson, renderTable } from './common.js';

/** 3 h 12 min, 2 d 4 h, 45 s: how long ago, roughly. */
export function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** The command holding the sync lock (recorded since migration 090; older locks name only their owner). */
const HELD_BY = { sync: 'a sync', apply: 'an apply --commit', watch: 'a watch write' } as const;

const dash = (value: number | null | undefined) => (value === null || value === undefined ? '-' : String(value));

export function renderStatusText(status: Status): string {
  const out: string[] = [];
  const lock = status.lock;
  out.push(
    lock
      ? `Sync lock: held by ${lock.command ? `${HELD_BY[lock.command]} (${lock.owner})` : lock.owner} since ${lock.acquiredAt}${lock.runId !== null ? ` (run #${lock.runId})` : ''}, heartbeat ${lock.heartbeatAt}${lock.stale ? ` — stale (${lock.stale}); the next sync takes it over` : ''}`
      : 'Sync lock: free',
  );
  out.push(
    (status.lastSuccess
      ? `Last successful sync: ${status.lastSuccess.command === 'apply' ? 'apply ' : ''}#${status.lastSuccess.runId} (commit), ${formatAge(status.lastSuccess.ageMs)} ago`
      : 'Last successful sync: none committed yet') +
      (status.lastDryRun && (!status.lastSuccess || status.lastDryRun.runId > status.lastSuccess.runId)
        ? `; last dry run #${status.lastDryRun.runId}, ${formatAge(status.lastDryRun.ageMs)} ago`
        : ''),
  );
  out.push(
    status.syncLatencyMs !== null && status.lastCommitted
      ? `Sync latency: ${formatAge(status.syncLatencyMs)} since the last committed sync (#${status.lastCommitted.runId})`
      : 'Sync latency: no committed sync yet',
  );
  const d = status.driftNow;
  if (d) {
    const extra = [
      d.conflicts > 0 ? plural(d.conflicts, 'conflict') : '',
      d.aboveMaxDeviation !== null ? `${num(d.aboveMaxDeviation)} above alerts.maxDeviation` : '',
    ]
      .filter(Boolean)
      .join(', ');
    out.push(
      `Drift now (ERP #${d.erpSnapshotId} vs Shopify #${d.shopifySnapshotId}, Shopify read ${d.shopifyTakenAt}): ${plural(d.levelsCompared, 'level')} compared; ` +
        `Shopify drift ${num(d.shopifyChanges)} (|drift| ${num(d.totalAbsDrift)}); ERP drift ${plural(d.erpCorrections, 'correction')} (${plural(d.erpCorrectionUnits, 'unit')})${extra ? `; ${extra}` : ''}` +
        (d.leftOut.levels > 0 ? `; ${leftOutLine(d.leftOut)}` : ''),
    );
    if (d.appliedSince) {
      out.push(
        `  (that Shopify snapshot predates sync #${d.appliedSince.runId}, which then applied ${plural(d.appliedSince.applied, 'change')}, leaving ${num(d.appliedSince.remaining)}; pull shopify for a fresh view)`,
      );
    }
  } else out.push(`Drift now: unknown (${status.driftNote ?? 'no snapshots'})`);
  if (status.watch) out.push(watchLine(status.watch));
  const w = status.window;
  const outcomes = Object.entries(w.outcomes)
    .map(([outcome, n]) => `${n} ${outcome}`)
    .join(', ');
  const rate =
    w.retrySuccessRate === null
      ? 'no request needed a retry'
      : `${w.recoveredRequests} of ${w.retriedRequests} retried requests got through (${Math.round(w.retrySuccessRate * 100)}%)`;
  out.push(
    `Last ${plural(w.runs, 'run')}: ${outcomes || 'none'}; ${plural(w.calls, 'call')}, ${plural(w.retries, 'retry', 'retries')}, ${rate}; throttled ${plural(w.throttled, 'time')}, ${plural(w.throttledWaits, 'throttle wait')} (${formatMs(w.waitedMs)} waited)`,
  );
  if (status.runs.length > 0) {
    out.push('');
    // The left-out column only when a run left levels out: most shops never have any.
    const leftOut = status.runs.some((r) => (r.leftOut ?? 0) > 0);
    const head = [
      'run',
      'started',
      'mode',
      'outcome',
      'took',
      'drifting',
      ...(leftOut ? ['left out'] : []),
      'applied',
      'conflicts',
      'retries',
      'throttle waits',
      'note',
    ];
    out.push(
      renderTable(
        head,
        status.runs.map((r) => [
          `${r.command === 'apply' ? 'apply ' : ''}#${r.id}`,
          r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
          r.dryRun === null ? '-' : r.dryRun ? 'dry run' : 'commit',
          r.outcome,
          r.durationMs === null ? '-' : formatMs(r.durationMs),
          dash(r.drifting),
          ...(leftOut ? [dash(r.leftOut)] : []),
          dash(r.applied),
          dash(r.conflicts),
          r.retries,
          r.throttledWaits,
          [r.alert ? 'ALERT' : '', r.error ?? ''].filter(Boolean).join(': ').slice(0, 80),
        ]),
        head.map((h, i) => (i < 4 || h === 'note' ? 'left' : 'right')),
      ).trimEnd(),
    );
    const newest = status.runs[0]!;
    if (newest.phaseFigures.length > 0) {
      const phases = newest.phaseFigures.map(
        (p) => `${PHASE_LABELS[p.phase]} ${formatMs(p.ms)}${p.peakRssMb === null ? '' : ` (peak ${num(p.peakRssMb)} MB)`}`,
      );
      out.push(`Phases of sync #${newest.id}: ${phases.join(', ')}`);
    }
  }
  return out.join('\n') + '\n';
}

const PHASE_LABELS = { pullErp: 'pull ERP', pullShopify: 'pull Shopify', plan: 'plan', apply: 'apply' } as const;

/** One line of `invrecon watch` figures: events, writes, latency percentiles, queue, last error. */
export function watchLine(w: NonNullable<Status['watch']>): string {
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  const seconds = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)} s`);
  const state = w.running ? `running (pid ${w.pid}, ${w.url}, since ${w.startedAt})` : `stopped (last seen ${w.updatedAt})`;
  return (
    `Watch: ${state}; ${plural(sum(w.events), 'event')}, ${plural(w.writes.applied ?? 0, 'level')} written in ${plural(w.calls, 'call')}, ` +
    `latency p50 ${seconds(w.latency.p50)} p95 ${seconds(w.latency.p95)} p99 ${seconds(w.latency.p99)}, queue ${w.queueDepth}` +
    (w.leftOut?.levels ? `; ${leftOutLine(w.leftOut)}` : '') +
    (w.lastError ? `; last error ${w.lastError.at}: ${w.lastError.message.slice(0, 120)}` : '')
  );
}

export function renderStatus(status: Status, format: string): string {
  return format === 'json' ? renderJson(status) : renderStatusText(status);
}
