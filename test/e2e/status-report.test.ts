import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { cliEnv, demoWorkspace, spawnEmulator, sync, type SpawnedEmulator } from './sync-helpers.js';

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
    // Then a person applies a plan by hand: MUG-WHT drops to 20 on hand (target 14, Shopify has 24).
    const csv = join(workspace.dir, 'erp.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').replace('MUG-WHT,WH-A,30,', 'MUG-WHT,WH-A,20,'));
    const env = cliEnv(emulator.url);
    for (const args of [
      ['pull', 'erp'],
      ['pull', 'shopify'],
      ['plan', '--out', 'manual.json'],
      ['apply', 'manual.json', '--commit'],
    ]) {
      const result = await runCli(args, { cwd: workspace.dir, env });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
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
    assert.deepEqual(
      status.runs.map((r: { id: number; command: string; outcome: string }) => `${r.command} ${r.id}:${r.outcome}`),
      ['apply 4:ok', 'sync 3:ok', 'sync 2:ok', 'sync 1:drift'],
    );
    assert.deepEqual(
      status.runs.map((r: { drifting: number }) => r.drifting),
      [2, 0, 7, 7],
    );
    assert.equal(status.runs[0].applied, 2);
    assert.equal(status.lock, null);
    // A dry run changes nothing in Shopify: the last success is the manual apply, the last dry run #3.
    assert.deepEqual([status.lastSuccess.runId, status.lastSuccess.command], [4, 'apply']);
    assert.equal(status.lastCommitted.runId, 4);
    assert.equal(status.lastDryRun.runId, 3);
    assert.equal(typeof status.syncLatencyMs, 'number');
    // Drift now, from the snapshots the manual plan read (before its apply): Shopify drift (MUG-WHT and the
    // GIFT-SET bundle made of it) and ERP drift apart.
    assert.deepEqual([status.driftNow.erpSnapshotId, status.driftNow.shopifySnapshotId], [7, 8]);
    assert.deepEqual([status.driftNow.shopifyChanges, status.driftNow.totalAbsDrift], [2, 15]);
    assert.deepEqual([status.driftNow.erpCorrections, status.driftNow.erpCorrectionUnits], [1, 4]);
    assert.deepEqual(status.driftNow.appliedSince, { runId: 4, applied: 2, remaining: 0 });
    assert.equal(status.driftNow.levelsCompared, 12);
    // Totals add up: each is the sum over the locations.
    for (const key of ['levelsCompared', 'totalAbsDrift', 'erpCorrections'] as const) {
      assert.equal(
        status.driftNow.byLocation.reduce((n: number, l: Record<string, number>) => n + l[key]!, 0),
        status.driftNow[key === 'totalAbsDrift' ? 'totalAbsDrift' : key],
        key,
      );
    }
    assert.equal(
      status.driftNow.byLocation.reduce((n: number, l: { levelsDrifting: number }) => n + l.levelsDrifting, 0),
      status.driftNow.shopifyChanges,
    );
    assert.equal(status.window.runs, 4);
    assert.equal(status.window.retriedRequests, 0);
    assert.equal(status.window.retrySuccessRate, null);
    assert.equal(typeof status.window.throttledWaits, 'number');
  });

  it('status (table) and --runs N', async () => {
    const result = await runCli(['status', '--runs', '1'], { cwd: workspace.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Sync lock: free$/m);
    assert.match(result.stdout, /^Last successful sync: apply #4 \(commit\), \d+ (s|min) ago$/m);
    assert.match(result.stdout, /^Sync latency: \d+ (s|min) since the last committed sync \(#4\)$/m);
    assert.match(
      result.stdout,
      /^Drift now \(ERP #7 vs Shopify #8, .*\): 12 levels compared; Shopify drift 2 \(\|drift\| 15\); ERP drift 1 correction \(4 units\)$/m,
    );
    assert.match(result.stdout, /^Last 1 run: 1 ok;/m);
    assert.match(result.stdout, /│ apply #4 /);
    assert.doesNotMatch(result.stdout, /│ #3 /);
  });

  it('report --html writes one self-contained file with the chart data embedded', async () => {
    const file = join(workspace.dir, 'out', 'report.html');
    const result = await runCli(['report', '--html', file], { cwd: workspace.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), file);
    const html = readFileSync(file, 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
    assert.deepEqual(
      data.runs.map((r: { id: number; command: string; drifting: number; remaining: number }) => [r.command, r.id, r.drifting, r.remaining]),
      [
        ['sync', 1, 7, 7],
        ['sync', 2, 7, 0],
        ['sync', 3, 0, 0],
        ['apply', 4, 2, 0],
      ],
    );
    assert.deepEqual(data.lastSuccess.command, 'apply');
    assert.match(html, /<td>apply #4<div class="small">commit<\/div><\/td>/);
    assert.deepEqual(Object.keys(data.runs[1].phases), ['pullErp', 'pullShopify', 'plan', 'apply']);
    assert.deepEqual(data.byLocation.locations.map((l: { locationName: string }) => l.locationName).sort(), ['Downtown Store', 'Main Warehouse']);
    // Ranked by |delta| summed over the runs: GIFT-SET and TEE-RED-M were +8 in the two runs before the commit.
    assert.deepEqual(
      [data.topDrifting[0].sku, data.topDrifting[0].locationName, data.topDrifting[0].totalAbsDelta, data.topDrifting[0].times],
      ['GIFT-SET', 'Main Warehouse', 16, 2],
    );
    // The ERP correction (Shopify is the authority) is found by every run, the commit does not touch it.
    const posBag = data.topDrifting.find((s: { sku: string }) => s.sku === 'POS-BAG');
    assert.deepEqual([posBag.times, posBag.lastStatus], [3, 'erp-correction']);
    assert.match(html, /<svg id="drift-chart"/);
    // Nothing to fetch: no external scripts, styles, images or fonts.
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i);
    assert.doesNotMatch(html, /url\(/);
  });

  it('status names the command holding the sync lock, in the text as in the JSON', async () => {
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    const db = new Database(join(workspace.dir, '.invrecon', 'snapshot.db'));
    try {
      const at = new Date().toISOString();
      db.prepare('INSERT INTO locks (name, owner, pid, host, acquired_at, heartbeat_at, run_id, command) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)').run(
        'sync',
        `${holder.pid}@${hostname()}`,
        holder.pid,
        hostname(),
        at,
        at,
        'apply',
      );
      const text = await runCli(['status'], { cwd: workspace.dir });
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        text.stdout,
        new RegExp(`^Sync lock: held by an apply --commit \\(${holder.pid}@\\S+\\) since ${at.replace(/\./g, '\\.')}, heartbeat `, 'm'),
      );
      const json = JSON.parse((await runCli(['status', '--format', 'json'], { cwd: workspace.dir })).stdout);
      assert.deepEqual([json.lock.command, json.lock.pid, json.lock.stale], ['apply', holder.pid, null]);
      // A lock taken by a version before the command was recorded names its owner only.
      db.prepare('UPDATE locks SET command = NULL').run();
      const older = await runCli(['status'], { cwd: workspace.dir });
      assert.match(older.stdout, new RegExp(`^Sync lock: held by ${holder.pid}@\\S+ since `, 'm'));
    } finally {
      db.prepare('DELETE FROM locks').run();
      db.close();
      holder.kill();
    }
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
