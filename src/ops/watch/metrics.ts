import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LeftOut } from '../../reconcile/diff-model.js';

/** Latencies kept for the percentiles status shows (the histogram serves Prometheus). */
const WINDOW = 2000;

export interface WatchFigures {
  events: Record<string, number>;
  writes: Record<string, number>;
  calls: number;
  latency: { count: number; p50: number | null; p95: number | null; p99: number | null };
  queueDepth: number;
  lastWriteAt: string | null;
  lastError: { at: string; message: string } | null;
  /** Shopify's levels watch does not write (untracked items, inactive locations), as the live state has them. */
  leftOut: LeftOut;
}

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** The names DESIGN.md fixes; one registry per process. */
export class WatchMetrics {
  readonly registry = new Registry();
  private readonly events: Counter<'kind' | 'outcome'>;
  private readonly writes: Counter<'outcome'>;
  private readonly calls: Counter;
  private readonly depth: Gauge;
  private readonly leftOutGauge: Gauge<'why'>;
  private readonly latency: Histogram;
  private readonly recent: number[] = [];
  private readonly eventCounts: Record<string, number> = {};
  private readonly writeCounts: Record<string, number> = {};
  private callCount = 0;
  private latencyCount = 0;
  lastWriteAt: string | null = null;
  lastError: { at: string; message: string } | null = null;
  queueDepth = 0;
  leftOut: LeftOut = { levels: 0, ofUntrackedItems: 0, atInactiveLocations: 0 };

  constructor() {
    this.events = new Counter({
      name: 'invrecon_watch_events_total',
      help: 'Events received, by kind (erp, webhook, poll) and outcome',
      labelNames: ['kind', 'outcome'],
      registers: [this.registry],
    });
    this.writes = new Counter({
      name: 'invrecon_watch_writes_total',
      help: 'Level writes, by outcome (applied, stale, failed, unresolved)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.calls = new Counter({
      name: 'invrecon_watch_shopify_calls_total',
      help: 'Calls sent to Shopify (writes and re-reads, retries included)',
      registers: [this.registry],
    });
    this.depth = new Gauge({ name: 'invrecon_watch_queue_depth', help: 'SKUs waiting for a recompute or a write', registers: [this.registry] });
    this.leftOutGauge = new Gauge({
      name: 'invrecon_watch_left_out_levels',
      help: "Shopify's levels watch does not write: of untracked items, at inactive locations",
      labelNames: ['why'],
      registers: [this.registry],
    });
    this.setLeftOut(this.leftOut);
    this.latency = new Histogram({
      name: 'invrecon_watch_latency_seconds',
      help: 'From event accepted to Shopify write confirmed',
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60],
      registers: [this.registry],
    });
  }

  event(kind: string, outcome: string, n = 1): void {
    this.events.inc({ kind, outcome }, n);
    const key = `${kind}:${outcome}`;
    this.eventCounts[key] = (this.eventCounts[key] ?? 0) + n;
  }

  write(outcome: string, n = 1): void {
    if (n === 0) return;
    this.writes.inc({ outcome }, n);
    this.writeCounts[outcome] = (this.writeCounts[outcome] ?? 0) + n;
    if (outcome === 'applied') this.lastWriteAt = new Date().toISOString();
  }

  call(): void {
    this.calls.inc();
    this.callCount++;
  }

  observeLatency(seconds: number): void {
    this.latency.observe(seconds);
    this.latencyCount++;
    this.recent.push(seconds);
    if (this.recent.length > WINDOW) this.recent.shift();
  }

  setQueueDepth(depth: number): void {
    this.queueDepth = depth;
    this.depth.set(depth);
  }

  setLeftOut(leftOut: LeftOut): void {
    this.leftOut = leftOut;
    this.leftOutGauge.set({ why: 'untracked-item' }, leftOut.ofUntrackedItems);
    this.leftOutGauge.set({ why: 'inactive-location' }, leftOut.atInactiveLocations);
  }

  error(message: string): void {
    this.lastError = { at: new Date().toISOString(), message };
  }

  figures(): WatchFigures {
    const sorted = [...this.recent].sort((a, b) => a - b);
    return {
      events: { ...this.eventCounts },
      writes: { ...this.writeCounts },
      calls: this.callCount,
      latency: { count: this.latencyCount, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) },
      queueDepth: this.queueDepth,
      lastWriteAt: this.lastWriteAt,
      lastError: this.lastError,
      leftOut: { ...this.leftOut },
    };
  }
}
