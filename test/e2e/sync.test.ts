import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { readPlan } from '../../src/plan/file.js';
import { outputSchemas } from '../../src/views/schemas.js';
import { binPath, runCli } from '../helpers/cli.js';
import { cliEnv, DEMO_TARGETS, demoWorkspace, runsOf, spawnEmulator, sync, TOKEN, type SpawnedEmulator } from './sync-helpers.js';

describe('invrecon sync (spawned against the emulator)', () => {
  // A fresh shop per test: a commit changes the emulator's levels.
  let emulator: SpawnedEmulator;
  beforeEach(async () => {
    emulator = await spawnEmulator();
  });
  afterEach(() => emulator.stop());

  it('dry run: pulls, plans, changes nothing in Shopify, records the run, exits 0 (2 with --detailed-exitcode)', async () => {
    const workspace = demoWorkspace();
    try {
      const before = await emulator.levels();
      const result = await sync(workspace.dir, emulator.url, ['--format', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.runId, 1);
      assert.equal(summary.outcome, 'drift');
      assert.equal(summary.dryRun, true);
      assert.deepEqual(Object.keys(summary.phases), ['pullErp', 'pullShopify', 'plan', 'apply']);
      for (const ms of Object.values(summary.phases)) assert.equal(typeof ms, 'number');
      assert.equal(summary.levelsCompared, 12);
      assert.equal(summary.drifting, 7);
      assert.equal(summary.applied, 0);
      assert.equal(summary.erpCorrections, 1);
      assert.equal(summary.guards.applyable, true);
      assert.equal(typeof summary.retries, 'number');
      assert.equal(typeof summary.throttledWaits, 'number');
      assert.ok(existsSync(summary.planFile));
      assert.equal(readPlan(summary.planFile).changes.length, 7);
      assert.deepEqual(await emulator.levels(), before);
      const runs = runsOf(workspace.dir);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.outcome, 'drift');
      assert.ok(runs[0]!.finished_at);
      assert.equal(runs[0]!.summary.drifting, 7);

      const gate = await sync(workspace.dir, emulator.url, ['--detailed-exitcode']);
      assert.equal(gate.code, 2, gate.stderr);
      assert.match(gate.stdout, /^sync #2 drift \(dry run\): 12 levels compared, 7 drifting \(\|drift\| 28\), 7 would change \(use --commit\)/);
      assert.ok(!gate.stdout.includes(TOKEN) && !gate.stderr.includes(TOKEN));
    } finally {
      workspace.cleanup();
    }
  });

  it('--commit sets every drifting level to its target; the next sync finds nothing to do', async () => {
    const workspace = demoWorkspace();
    try {
      const result = await sync(workspace.dir, emulator.url, ['--commit', '--format', 'json', '--log-format', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.outcome, 'ok');
      assert.equal(summary.applied, 7);
      assert.equal(summary.conflicts, 0);
      assert.equal(summary.remaining, 0);
      const levels = await emulator.levels();
      for (const [level, target] of Object.entries(DEMO_TARGETS)) assert.equal(levels.get(level), target, level);
      // Logs are JSON lines with ts, level, msg.
      const logs = result.stderr
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      assert.ok(logs.every((l) => typeof l.ts === 'string' && typeof l.level === 'string' && typeof l.msg === 'string'));
      assert.ok(logs.some((l) => l.phase === 'apply' && l.applied === 7));
      assert.equal(logs.at(-1).event, 'finish');

      const again = await sync(workspace.dir, emulator.url, ['--commit', '--format', 'json']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).drifting, 0);
      assert.deepEqual(
        runsOf(workspace.dir).map((r) => r.outcome),
        ['ok', 'ok'],
      );
    } finally {
      workspace.cleanup();
    }
  });

  it('a failed guard refuses the apply: exit 1 with the reasons, run recorded as refused; --force applies', async () => {
    const workspace = demoWorkspace((config) => (config.guards.maxChanges = 2));
    try {
      const refused = await sync(workspace.dir, emulator.url, ['--commit']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /refused: a guard refused the plan, nothing was applied/);
      assert.match(refused.stderr, /maxChanges \(value 7, limit 2\): 7 changes \(guards\.maxChanges 2\)/);
      assert.match(refused.stdout, /^sync #1 refused \(commit\)/);
      assert.equal(runsOf(workspace.dir)[0]!.outcome, 'refused');
      const forced = await sync(workspace.dir, emulator.url, ['--commit', '--force', '--format', 'json']);
      assert.equal(forced.code, 0, forced.stderr);
      const summary = JSON.parse(forced.stdout);
      assert.equal(summary.guards.forced, true);
      assert.match(forced.stderr, /guards failed but --force was given/);
    } finally {
      workspace.cleanup();
    }
  });

  it('a source failure is recorded with its phase and exits 1', async () => {
    const workspace = demoWorkspace();
    try {
      const result = await runCli(['sync', '--format', 'json'], { cwd: workspace.dir, env: cliEnv(emulator.url, { SHOPIFY_ADMIN_TOKEN: 'wrong-token' }) });
      assert.equal(result.code, 1);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.outcome, 'error');
      assert.equal(summary.failedPhase, 'pullShopify');
      assert.match(result.stderr, /sync #1 failed in pullShopify/);
      assert.equal(runsOf(workspace.dir)[0]!.outcome, 'error');
      // The lock was released: the next sync runs.
      assert.equal((await sync(workspace.dir, emulator.url)).code, 0);
    } finally {
      workspace.cleanup();
    }
  });

  it('--stale-lock never takes over a live process on this host, however old its heartbeat: the sync waits, then exits 1', async () => {
    const workspace = demoWorkspace();
    // The holder: a live process on this host whose heartbeat is an hour old (an apply stuck in a long step).
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      assert.equal((await sync(workspace.dir, emulator.url)).code, 0);
      holdLock(workspace.dir, holder.pid!, null, new Date(Date.now() - 3_600_000).toISOString());
      const result = await sync(workspace.dir, emulator.url, ['--stale-lock', '2', '--lock-wait', '1', '--format', 'json']);
      assert.equal(result.code, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /took over/);
      const locked = JSON.parse(result.stdout);
      assert.equal(locked.outcome, 'locked');
      assert.equal(locked.lock.pid, holder.pid);
      assert.equal(runsOf(workspace.dir).length, 1);
      // Once it is gone, the next sync takes the lock over at once.
      holder.kill();
      await once(holder, 'exit');
      const next = await sync(workspace.dir, emulator.url, ['--lock-wait', '0']);
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stderr, new RegExp(`took over the sync lock of ${holder.pid}@\\S+ .*: process ${holder.pid} is gone`));
    } finally {
      holder.kill();
      workspace.cleanup();
    }
  });

  it('apply --commit waits for the lock as sync does (--lock-wait), naming the holder by its command, then exits 1; runs once the holder is gone', async () => {
    const workspace = demoWorkspace();
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const dry = await sync(workspace.dir, emulator.url, ['--format', 'json']);
      assert.equal(dry.code, 0, dry.stderr);
      const { planFile } = JSON.parse(dry.stdout);
      holdLock(workspace.dir, holder.pid!, 'watch', new Date().toISOString());
      const env = cliEnv(emulator.url);
      const refused = await runCli(['apply', planFile, '--commit', '--lock-wait', '1'], { cwd: workspace.dir, env });
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, new RegExp(`warning: waiting up to 1 s for the sync lock, held by ${holder.pid}@\\S+ since \\S+ \\(watch\\)`));
      assert.match(refused.stderr, new RegExp(`a watch write holds the sync lock on this database: ${holder.pid}@\\S+ .*; gave up after waiting 1(\\.\\d)? s`));
      holder.kill();
      await once(holder, 'exit');
      const applied = await runCli(['apply', planFile, '--commit', '--format', 'json'], { cwd: workspace.dir, env });
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal(JSON.parse(applied.stdout).applied, 7);
    } finally {
      holder.kill();
      workspace.cleanup();
    }
  });
});

describe('sync lock (two processes)', () => {
  // Slow answers keep the first sync inside its run while the second one starts.
  let emulator: SpawnedEmulator;
  beforeEach(async () => {
    emulator = await spawnEmulator(['--latency-ms', '1500']);
  });
  afterEach(() => emulator.stop());

  /** The first sync, once answers are fast again, completes alone: exit 0, the one run recorded ok. */
  async function firstCompletes(first: { done: Promise<{ code: number | null; stderr: string }> }, dir: string): Promise<void> {
    await emulator.setFaults({ latencyMs: 0 });
    const result = await first.done;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      runsOf(dir).map((r) => r.outcome),
      ['ok'],
    );
  }

  /** Starts a sync; `started` resolves once its stderr matches `until` (by default: it took the lock). */
  function startSync(dir: string, args: string[], until = /sync #\d+ started/) {
    const child = spawn(process.execPath, [binPath, 'sync', ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...cliEnv(emulator.url) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const started = new Promise<void>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
        if (until.test(stderr)) resolve();
      });
      child.once('close', () => reject(new Error(`sync ended before it started: ${stderr}`)));
    });
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
    done.catch(() => undefined);
    started.catch(() => undefined);
    return { child, started, done };
  }

  it('a second sync waits for the lock, saying who holds it, then runs once the first is done', async () => {
    const workspace = demoWorkspace();
    try {
      const first = startSync(workspace.dir, ['--commit']);
      await first.started;
      const second = startSync(workspace.dir, ['--format', 'json', '--lock-wait', '600'], /waiting up to/);
      await second.started;
      await emulator.setFaults({ latencyMs: 0 });
      const [one, two] = await Promise.all([first.done, second.done]);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(two.code, 0, two.stderr);
      assert.match(
        two.stderr,
        new RegExp(`warning: waiting up to 600 s for the sync lock, held by ${first.child.pid}@\\S+ since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(run #1\\)`),
      );
      // The second ran after the first had set every level: nothing left to do.
      const summary = JSON.parse(two.stdout);
      assert.equal(summary.runId, 2);
      assert.equal(summary.outcome, 'ok');
      assert.equal(summary.drifting, 0);
      assert.deepEqual(
        runsOf(workspace.dir).map((r) => r.outcome),
        ['ok', 'ok'],
      );
    } finally {
      workspace.cleanup();
    }
  });

  it('a second sync gives up after --lock-wait: exit 1 naming the holder (pid@host, since when) and the wait; nothing recorded; the first completes', async () => {
    const workspace = demoWorkspace();
    try {
      const first = startSync(workspace.dir, ['--commit']);
      await first.started;
      const second = await sync(workspace.dir, emulator.url, ['--format', 'json', '--lock-wait', '1']);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`warning: waiting up to 1 s for the sync lock, held by ${first.child.pid}@`));
      assert.match(
        second.stderr,
        new RegExp(
          `another sync holds the sync lock on this database: ${first.child.pid}@\\S+ since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(run #1\\), last heartbeat [^;]+; gave up after waiting 1(\\.\\d)? s`,
        ),
      );
      const locked = JSON.parse(second.stdout);
      assert.equal(locked.outcome, 'locked');
      assert.equal(locked.lock.pid, first.child.pid);
      assert.equal(locked.lock.command, 'sync');
      assert.ok(locked.waitedMs >= 1000);
      // --lock-wait 0: no wait at all.
      const at = await sync(workspace.dir, emulator.url, ['--lock-wait', '0']);
      assert.equal(at.code, 1);
      assert.doesNotMatch(at.stderr, /waiting up to/);
      assert.match(at.stderr, /another sync holds the sync lock/);
      await firstCompletes(first, workspace.dir);
    } finally {
      workspace.cleanup();
    }
  });

  it('a sync stopped by SIGINT while it waits for the lock: exit 130, JSON saying so, no waiting mark left; the holder completes', async () => {
    const workspace = demoWorkspace();
    try {
      const first = startSync(workspace.dir, ['--commit']);
      await first.started;
      const second = startSync(workspace.dir, ['--format', 'json', '--lock-wait', '600'], /waiting up to/);
      await second.started;
      second.child.kill('SIGINT');
      const stopped = await second.done;
      assert.equal(stopped.code, 130, stopped.stderr);
      assert.deepEqual(JSON.parse(stopped.stdout), { schemaVersion: 1, outcome: 'interrupted', exitCode: 130, signal: 'SIGINT', runId: null });
      assert.ok(outputSchemas['sync-interrupted'].safeParse(JSON.parse(stopped.stdout)).success);
      assert.match(stopped.stderr, /sync stopped by SIGINT while waiting for the lock \(\d+ ms\); nothing ran/);
      const db = new Database(join(workspace.dir, '.invrecon', 'snapshot.db'), { readonly: true });
      try {
        assert.deepEqual(db.prepare('SELECT name, pid FROM locks ORDER BY name').raw().all(), [['sync', first.child.pid]]);
      } finally {
        db.close();
      }
      await firstCompletes(first, workspace.dir);
    } finally {
      workspace.cleanup();
    }
  });

  it('a sync stopped by SIGTERM closes its run as interrupted, releases the lock and exits 143', async () => {
    const workspace = demoWorkspace();
    try {
      const victim = startSync(workspace.dir, ['--commit', '--format', 'json'], /pulled ERP/);
      await victim.started;
      victim.child.kill('SIGTERM');
      const stopped = await victim.done;
      assert.equal(stopped.code, 143, stopped.stderr);
      assert.deepEqual(JSON.parse(stopped.stdout), { schemaVersion: 1, outcome: 'interrupted', exitCode: 143, signal: 'SIGTERM', runId: 1 });
      assert.match(stopped.stderr, /sync #1 stopped by SIGTERM; lock released/);
      const runs = runsOf(workspace.dir);
      assert.deepEqual(
        runs.map((r) => r.outcome),
        ['interrupted'],
      );
      assert.notEqual(runs[0]!.finished_at, null);
      // The lock is free: the next sync takes it without a takeover.
      await emulator.setFaults({ latencyMs: 0 });
      const next = await sync(workspace.dir, emulator.url, ['--format', 'json']);
      assert.equal(next.code, 0, next.stderr);
      assert.doesNotMatch(next.stderr, /took over/);
    } finally {
      workspace.cleanup();
    }
  });

  it('a sync killed with -9 leaves a stale lock that the next sync takes over, marking the dead run interrupted', async () => {
    const workspace = demoWorkspace();
    try {
      // Killed in the middle of the Shopify pull, its snapshot transaction open.
      const victim = startSync(workspace.dir, ['--commit'], /pulled ERP/);
      await victim.started;
      victim.child.kill('SIGKILL');
      const killed = await victim.done;
      assert.equal(killed.signal, 'SIGKILL');
      await emulator.setFaults({ latencyMs: 0 });
      const next = await sync(workspace.dir, emulator.url, ['--commit', '--format', 'json']);
      assert.equal(next.code, 0, next.stderr);
      assert.match(
        next.stderr,
        new RegExp(`warning: took over the sync lock of ${victim.child.pid}@\\S+ \\(held since [^,]+, run #1\\): process ${victim.child.pid} is gone`),
      );
      const summary = JSON.parse(next.stdout);
      assert.equal(summary.tookOverLock.owner.split('@')[0], String(victim.child.pid));
      assert.equal(summary.outcome, 'ok');
      const runs = runsOf(workspace.dir);
      assert.deepEqual(
        runs.map((r) => r.outcome),
        ['interrupted', 'ok'],
      );
      assert.match(runs[0]!.summary.error, /its process stopped \(process \d+ is gone\)/);
      const levels = await emulator.levels();
      for (const [level, target] of Object.entries(DEMO_TARGETS)) assert.equal(levels.get(level), target, level);
    } finally {
      workspace.cleanup();
    }
  });
});

describe('sync alerts (webhook on 127.0.0.1)', () => {
  let emulator: SpawnedEmulator;
  let hook: Server;
  let hookUrl = '';
  const posts: { path: string; body: any }[] = [];
  beforeEach(async () => {
    emulator = await spawnEmulator();
  });
  afterEach(() => emulator.stop());
  before(async () => {
    hook = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (c: string) => (text += c));
      req.on('end', () => {
        posts.push({ path: req.url!, body: JSON.parse(text) });
        res.writeHead(req.url!.startsWith('/fail') ? 500 : 200);
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => hook.close(() => resolve())));

  it('posts an alert when a level is off by more than maxDeviation after the sync', async () => {
    const workspace = demoWorkspace((config) => (config.alerts = { maxDeviation: 5, webhookUrl: `${hookUrl}/ok` }));
    try {
      const result = await sync(workspace.dir, emulator.url, ['--format', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const post = posts.find((p) => p.path === '/ok');
      assert.ok(post, 'the webhook was called');
      assert.match(post.body.text, /^invrecon sync #1 on demo-shop\.myshopify\.com \(dry run\): drift\n- 3 levels off by more than 5/);
      assert.deepEqual(post.body.deviations.map((d: { sku: string; delta: number }) => `${d.sku}${d.delta}`).sort(), ['GIFT-SET8', 'MUG-WHT-6', 'TEE-RED-M8']);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.alert.webhook.sent, true);
      assert.equal(summary.alert.deviations, 3);
      assert.match(result.stderr, /ALERT: 3 levels off by more than 5/);
      // After a commit nothing Shopify-side is off: the only deviation left is not above the threshold.
      const committed = await sync(workspace.dir, emulator.url, ['--commit', '--format', 'json']);
      assert.equal(JSON.parse(committed.stdout).alert, undefined);
    } finally {
      workspace.cleanup();
    }
  });

  it('a webhook that answers 500, or a closed port, never fails the sync; the failure is logged and recorded', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    for (const [url, expected, attempts] of [
      [`${hookUrl}/fail-secret-path`, /HTTP 500/, 2],
      [`http://127.0.0.1:${closedPort}/hook`, /ECONNREFUSED/, 1],
    ] as const) {
      const workspace = demoWorkspace(
        (config) => (config.alerts = { maxDeviation: 0, webhookUrlEnv: 'OPS_TEST_HOOK', retries: attempts - 1, timeoutMs: 2000 }),
      );
      try {
        const result = await sync(workspace.dir, emulator.url, ['--format', 'json'], { OPS_TEST_HOOK: url });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, new RegExp(`warning: alert webhook failed after ${attempts} attempts?: .*${expected.source}.*; the sync goes on`));
        const summary = JSON.parse(result.stdout);
        assert.equal(summary.outcome, 'drift');
        assert.equal(summary.alert.webhook.sent, false);
        assert.equal(summary.alert.webhook.attempts, attempts);
        assert.equal(runsOf(workspace.dir)[0]!.summary.alert.webhook.sent, false);
        // The URL came from the environment: it may hold a secret, so it is never printed.
        assert.ok(!result.stderr.includes(url) && !result.stdout.includes(url));
      } finally {
        workspace.cleanup();
      }
    }
    assert.equal(posts.filter((p) => p.path === '/fail-secret-path').length, 2);
  });
});

/** Writes a lock row for `pid` on this host, as a holder of `command` (null: a row from before the column). */
function holdLock(dir: string, pid: number, command: string | null, heartbeatAt: string): void {
  const db = new Database(join(dir, '.invrecon', 'snapshot.db'));
  try {
    db.prepare('INSERT INTO locks (name, owner, pid, host, acquired_at, heartbeat_at, run_id, command) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)').run(
      'sync',
      `${pid}@${hostname()}`,
      pid,
      hostname(),
      heartbeatAt,
      heartbeatAt,
      command,
    );
  } finally {
    db.close();
  }
}
