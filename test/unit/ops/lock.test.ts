import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireLock, heartbeat, LockHeldError, readLock, releaseLock, staleReason, stillHeld, withLock } from '../../../src/ops/lock.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { tempDir } from '../../helpers/cli.js';

describe('sync lock', () => {
  const workspace = tempDir('invrecon-lock-');
  after(() => workspace.cleanup());
  let n = 0;
  const freshDb = (): Db => openDb(join(workspace.dir, `lock-${n++}.db`));
  const alive = new Set<number>();
  const env = (pid: number, host = 'host-a', now = Date.parse('2026-01-01T00:00:00Z')) => ({
    self: { pid, host },
    isAlive: (p: number) => alive.has(p),
    now: () => now,
    staleMs: 60_000,
  });

  it('is taken once; a second taker gets LockHeldError naming pid@host and since when', () => {
    const db = freshDb();
    alive.add(100);
    const first = acquireLock(db, { ...env(100), runId: 7 });
    assert.equal(first.lock.owner, '100@host-a');
    assert.equal(first.tookOver, undefined);
    assert.throws(
      () => acquireLock(db, env(200)),
      (error: unknown) =>
        error instanceof LockHeldError && /100@host-a since 2026-01-01T00:00:00\.000Z \(run #7\)/.test(error.message) && error.kind === 'usage',
    );
    assert.equal(readLock(db)!.owner, '100@host-a');
    db.close();
  });

  it('takes over a holder whose process is gone on this host, saying why', () => {
    const db = freshDb();
    alive.add(101);
    acquireLock(db, env(101));
    alive.delete(101);
    const second = acquireLock(db, env(201));
    assert.equal(second.tookOver?.holder.owner, '101@host-a');
    assert.match(second.tookOver.reason, /process 101 is gone/);
    assert.equal(readLock(db)!.owner, '201@host-a');
    db.close();
  });

  it('on another host, trusts the heartbeat until it is older than the stale timeout', () => {
    const db = freshDb();
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const held = acquireLock(db, env(300, 'host-b', t0));
    // host-a cannot see host-b's processes: only the heartbeat counts.
    assert.throws(() => acquireLock(db, env(400, 'host-a', t0 + 59_000)), LockHeldError);
    assert.ok(heartbeat(db, held.lock, () => t0 + 50_000));
    assert.throws(() => acquireLock(db, env(400, 'host-a', t0 + 100_000)), LockHeldError);
    const taken = acquireLock(db, env(400, 'host-a', t0 + 111_000));
    assert.match(taken.tookOver!.reason, /no heartbeat for 61 s/);
    // The old holder notices: its heartbeat no longer lands, and the lock is not its own any more.
    assert.equal(
      heartbeat(db, held.lock, () => t0 + 112_000),
      false,
    );
    assert.equal(stillHeld(db, held.lock), false);
    assert.equal(stillHeld(db, taken.lock), true);
    db.close();
  });

  it('a live process on this host keeps the lock while its heartbeat is fresh', () => {
    const row = {
      name: 'sync',
      owner: '5@host-a',
      pid: 5,
      host: 'host-a',
      acquiredAt: '2026-01-01T00:00:00.000Z',
      heartbeatAt: '2026-01-01T00:00:00.000Z',
      runId: null,
    };
    alive.add(5);
    assert.equal(staleReason(row, env(6, 'host-a', Date.parse('2026-01-01T00:00:30Z'))), undefined);
    assert.match(staleReason(row, env(6, 'host-a', Date.parse('2026-01-01T00:05:00Z')))!, /no heartbeat/);
  });

  it("release removes only the caller's own lock", () => {
    const db = freshDb();
    const old = acquireLock(db, env(500, 'host-c', Date.parse('2026-01-01T00:00:00Z')));
    const current = acquireLock(db, env(600, 'host-a', Date.parse('2026-01-01T01:00:00Z')));
    releaseLock(db, old.lock);
    assert.equal(readLock(db)!.owner, '600@host-a');
    releaseLock(db, current.lock);
    assert.equal(readLock(db), undefined);
    db.close();
  });

  it('judges a real pid: this process is alive, an exited child is not', async () => {
    const { spawnSync } = await import('node:child_process');
    const child = spawnSync(process.execPath, ['-e', '0']);
    const db = freshDb();
    const { hostname } = await import('node:os');
    const host = hostname();
    acquireLock(db, { self: { pid: child.pid, host } });
    const taken = acquireLock(db, { self: { pid: process.pid, host } });
    assert.match(taken.tookOver!.reason, new RegExp(`process ${child.pid} is gone`));
    assert.throws(() => acquireLock(db, { self: { pid: child.pid, host } }), LockHeldError);
    db.close();
  });

  it('withLock holds the lock while the work runs, beats its heartbeat, and releases it however the work ends', async () => {
    const db = freshDb();
    const result = await withLock(db, { heartbeatMs: 5 }, async (held) => {
      assert.equal(readLock(db)!.owner, held.lock.owner);
      assert.throws(() => acquireLock(db), LockHeldError);
      await new Promise((resolve) => setTimeout(resolve, 40));
      assert.ok(readLock(db)!.heartbeatAt > held.lock.acquiredAt, 'the heartbeat moved while the work ran');
      assert.equal(held.held(), true);
      return 42;
    });
    assert.equal(result, 42);
    assert.equal(readLock(db), undefined);
    await assert.rejects(
      withLock(db, {}, async () => Promise.reject(new Error('work failed'))),
      /work failed/,
    );
    assert.equal(readLock(db), undefined, 'released after a failure too');
    db.close();
  });
});
