import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { demoWorkspace, spawnEmulator, sync, type SpawnedEmulator } from './sync-helpers.js';

describe('invrecon status and report after a few syncs', () => {
  let emulator: SpawnedEmulator;
  const workspace = demoWorkspace();
  before(async () => {
    emulator = await spawnEmulator();
    // A dry run (drift found), a commit (drift fixed), and a dry run that finds nothing.
    for (const args of [[], ['--commit'], []]) {
      const result = await sync(workspace.dir, emulator.url, args);
      assert.equal(result.code, 0, result.stderr);
    }
  });
  after(async () => {
    await emulator.stop();
    workspace.cleanup();
  });

  it('status --format json: runs, outcome, drift now, sync latency, retry and throttle figures', async () => {
    const result = await runCli(['status', '--format', 'json'], { cwd: workspace.dir });
    assert.equal(result.code, 0, result.stderr);
    const status = JSON.parse(result.stdout);
    assert.deepEqual(status.runs.map((r: { id: number; outcome: string }) => `${r.id}:${r.outcome}`), ['3:ok', '2:ok', '1:drift']);
    assert.deepEqual(status.runs.map((r: { drifting: number }) => r.drifting), [0, 7, 7]);
    assert.equal(status.lock, null);
    assert.equal(status.lastSuccess.runId, 3);
    assert.equal(status.lastCommitted.runId, 2);
    assert.equal(typeof status.syncLatencyMs, 'number');
    assert.equal(status.driftNow.shopifyChanges, 0);
    assert.equal(status.driftNow.erpCorrections, 1);
    assert.equal(status.driftNow.levelsCompared, 12);
    assert.equal(status.window.runs, 3);
    assert.equal(status.window.retriedRequests, 0);
    assert.equal(status.window.retrySuccessRate, null);
    assert.equal(typeof status.window.throttledWaits, 'number');
  });

  it('status (table) and --runs N', async () => {
    const result = await runCli(['status', '--runs', '1'], { cwd: workspace.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Sync lock: free$/m);
    assert.match(result.stdout, /^Last successful sync: #3 \(dry run\), \d+ (s|min) ago$/m);
    assert.match(result.stdout, /^Sync latency: \d+ (s|min) since the last committed sync \(#2\)$/m);
    assert.match(result.stdout, /^Drift now \(ERP #5 vs Shopify #6, .*\): 12 levels compared, 0 to change in Shopify \(\|drift\| 0\), 1 ERP correction$/m);
    assert.match(result.stdout, /^Last 1 sync: 1 ok;/m);
    assert.match(result.stdout, /│ #3 /);
    assert.doesNotMatch(result.stdout, /│ #2 /);
  });

  it('report --html writes one self-contained file with the chart data embedded', async () => {
    const file = join(workspace.dir, 'out', 'report.html');
    const result = await runCli(['report', '--html', file], { cwd: workspace.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), file);
    const html = readFileSync(file, 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
    assert.deepEqual(data.runs.map((r: { id: number; drifting: number; remaining: number }) => [r.id, r.drifting, r.remaining]), [
      [1, 7, 7],
      [2, 7, 0],
      [3, 0, 0],
    ]);
    assert.deepEqual(Object.keys(data.runs[1].phases), ['pullErp', 'pullShopify', 'plan', 'apply']);
    assert.deepEqual(data.byLocation.locations.map((l: { locationName: string }) => l.locationName).sort(), ['Downtown Store', 'Main Warehouse']);
    // Ranked by |delta| summed over the runs: GIFT-SET and TEE-RED-M were +8 in the two runs before the commit.
    assert.deepEqual([data.topDrifting[0].sku, data.topDrifting[0].locationName, data.topDrifting[0].totalAbsDelta, data.topDrifting[0].times], ['GIFT-SET', 'Main Warehouse', 16, 2]);
    // The ERP correction (Shopify is the authority) is found by every run, the commit does not touch it.
    const posBag = data.topDrifting.find((s: { sku: string }) => s.sku === 'POS-BAG');
    assert.deepEqual([posBag.times, posBag.lastStatus], [3, 'erp-correction']);
    assert.match(html, /<svg id="drift-chart"/);
    // Nothing to fetch: no external scripts, styles, images or fonts.
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i);
    assert.doesNotMatch(html, /url\(/);
  });

  it('report without --html is a usage error', async () => {
    const result = await runCli(['report'], { cwd: workspace.dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--html FILE is required/);
  });
});

describe('retries and throttling are recorded per run and summed by status', () => {
  it('a shop answering 5xx half the time with a small rate-limit bucket: every retried request recovers', async () => {
    const emulator = await spawnEmulator(['--error-rate', '0.5', '--fault-seed', '3', '--max-available', '60', '--restore-rate', '60']);
    const workspace = demoWorkspace();
    try {
      const result = await sync(workspace.dir, emulator.url, ['--commit', '--format', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.outcome, 'ok');
      assert.ok(summary.retries > 0, 'some calls were retried');
      assert.ok(summary.retriedRequests > 0);
      assert.equal(summary.recoveredRequests, summary.retriedRequests);
      assert.ok(summary.throttledWaits > 0, 'the client waited for the bucket');
      const status = JSON.parse((await runCli(['status', '--format', 'json'], { cwd: workspace.dir })).stdout);
      assert.equal(status.window.retrySuccessRate, 1);
      assert.equal(status.window.retries, summary.retries);
      assert.equal(status.window.throttledWaits, summary.throttledWaits);
      assert.deepEqual(status.driftNow.appliedSince, { runId: 1, applied: 7, remaining: 0 });
    } finally {
      await emulator.stop();
      workspace.cleanup();
    }
  });
});
