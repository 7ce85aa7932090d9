import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveConfig } from '../../../src/config/load.js';
import { buildReportData } from '../../../src/ops/report.js';
import { finishRun, markInterrupted, startRun, type SyncSummary } from '../../../src/ops/runs.js';
import { buildStatus } from '../../../src/ops/status.js';
import { openDb } from '../../../src/store/db.js';
import { renderReportHtml, scriptJson } from '../../../src/views/report.js';
import { renderStatus } from '../../../src/views/status.js';
import { tempDir } from '../../helpers/cli.js';

describe('status and report from recorded runs', () => {
  const workspace = tempDir('invrecon-status-');
  after(() => workspace.cleanup());
  const config = resolveConfig(
    { shopify: { shop: 'demo-shop.myshopify.com' }, erp: { csv: { path: 'erp.csv' } }, locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main' }] },
    join(workspace.dir, 'invrecon.config.json'),
  );
  const db = openDb(config.snapshot.path);
  after(() => db.close());

  const t = (minutes: number) => new Date(Date.parse('2026-03-01T00:00:00Z') + minutes * 60_000);
  const run = (minutes: number, outcome: SyncSummary['outcome'], over: Partial<SyncSummary>) => {
    const id = startRun(db, 'sync', {}, t(minutes));
    const summary = {
      command: 'sync',
      outcome,
      dryRun: false,
      phases: { pullErp: 10, pullShopify: 20, plan: 5, apply: 7 },
      levelsCompared: 12,
      drifting: 3,
      totalAbsDrift: 9,
      remaining: 0,
      guards: { applyable: true, forced: false, checks: [] },
      byLocation: [{ locationId: 'L1', locationName: 'Main', levelsCompared: 12, drifting: 3, totalAbsDrift: 9 }],
      topDrifting: [{ sku: 'TEE', locationName: 'Main', target: 5, observed: 2, delta: 3, status: 'change' }],
      calls: 4,
      retries: 0,
      retriedRequests: 0,
      recoveredRequests: 0,
      throttled: 0,
      throttledWaits: 0,
      waitedMs: 0,
      durationMs: 42,
      ...over,
    };
    finishRun(db, id, outcome, summary, t(minutes + 1));
    return id;
  };
  run(0, 'ok', { retries: 3, retriedRequests: 2, recoveredRequests: 2, throttledWaits: 1, throttled: 1 });
  const dry = run(60, 'drift', { dryRun: true, retries: 1, retriedRequests: 1, recoveredRequests: 0, remaining: 3, applied: 0 });
  run(120, 'error', {
    error: 'Shopify LocationsPage: gave up after 9 tries',
    failedPhase: 'pullShopify',
    retries: 8,
    retriedRequests: 1,
    recoveredRequests: 0,
    guards: undefined,
    topDrifting: [],
  });
  const killed = startRun(db, 'sync', { command: 'sync', dryRun: false, phases: { pullErp: 3 } }, t(180));
  markInterrupted(db, killed, 'its process stopped');
  const now = () => t(240).getTime();

  it('sums retries and throttling over the window, finds the last success and the last commit', () => {
    const status = buildStatus(db, config, { runs: 10, now });
    assert.equal(status.runs.length, 4);
    assert.deepEqual(
      status.runs.map((r) => r.outcome),
      ['interrupted', 'error', 'drift', 'ok'],
    );
    assert.deepEqual(status.window.outcomes, { interrupted: 1, error: 1, drift: 1, ok: 1 });
    assert.equal(status.window.retries, 12);
    assert.equal(status.window.retriedRequests, 4);
    assert.equal(status.window.recoveredRequests, 2);
    assert.equal(status.window.retrySuccessRate, 0.5);
    assert.equal(status.window.throttledWaits, 1);
    // A dry run changes nothing in Shopify: it is never the last successful sync, only the last dry run.
    assert.equal(status.lastSuccess?.runId, 1);
    assert.equal(status.lastCommitted?.runId, 1);
    assert.equal(status.lastDryRun?.runId, dry);
    assert.equal(status.syncLatencyMs, (240 - 1) * 60_000);
    assert.equal(status.driftNow, null);
    assert.match(status.driftNote!, /no ERP snapshot yet/);
    const text = renderStatus(status, 'table');
    assert.match(text, /Last successful sync: #1 \(commit\), 3 h 59 min ago; last dry run #2, 2 h 59 min ago/);
    assert.match(text, /Sync latency: 3 h 59 min since the last committed sync \(#1\)/);
    assert.match(text, /2 of 4 retried requests got through \(50%\)/);
    assert.match(text, /interrupted/);
  });

  it('--runs limits the window', () => {
    const status = buildStatus(db, config, { runs: 2, now });
    assert.deepEqual(
      status.runs.map((r) => r.outcome),
      ['interrupted', 'error'],
    );
    assert.equal(status.window.retrySuccessRate, 0);
  });

  it('the report embeds its data as JSON, runs oldest first, SKUs aggregated over runs', () => {
    const data = buildReportData(db, config, { runs: 10, now });
    assert.deepEqual(
      data.runs.map((r) => r.outcome),
      ['ok', 'drift', 'error', 'interrupted'],
    );
    assert.deepEqual(
      data.runs.map((r) => r.drifting),
      [3, 3, null, null],
    );
    assert.deepEqual(data.topDrifting, [{ sku: 'TEE', locationName: 'Main', times: 2, totalAbsDelta: 6, lastDelta: 3, lastStatus: 'change' }]);
    assert.equal(data.byLocation.runId, dry);
    const html = renderReportHtml(data);
    const embedded = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(embedded);
    assert.deepEqual(JSON.parse(embedded[1]!), JSON.parse(JSON.stringify(data)));
    assert.match(html, /<svg id="drift-chart"/);
    assert.doesNotMatch(html, /(src|href)="https?:/);
  });

  it('escapes data that could close the script tag', () => {
    const text = scriptJson({ sku: '</script><script>alert(1)</script>', sep: '\u2028' });
    assert.doesNotMatch(text, /<\/script>/i);
    assert.deepEqual(JSON.parse(text), { sku: '</script><script>alert(1)</script>', sep: '\u2028' });
  });
});
