import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  acquireLock,
  acquireLockWaiting,
  heartbeat,
  LockHeldError,
  LockWaitAborted,
  readLock,
  releaseLock,
  staleReason,
  stillHeld,
  SYNC_WAITING,
  syncWaiting,
  withLock,
  type LockRow,
} from '../../../src/ops/lock.js';
import { SyncLockGate } from '../../../src/ops/watch/index.js';
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

  it('a taker that finds the lock held names the holder by its command (sync, apply, watch); an older row without one as another process', () => {
    const db = freshDb();
    alive.add(110);
    const said = () => {
      try {
        acquireLock(db, env(111));
      } catch (error) {
        return (error as LockHeldError).message.split(':')[0];
      }
      return 'taken';
    };
    for (const [command, words] of [
      ['sync', 'another sync holds the sync lock on this database'],
      ['apply', 'an apply --commit holds the sync lock on this database'],
      ['watch', 'a watch write holds the sync lock on this database'],
    ] as const) {
      const held = acquireLock(db, { ...env(110), command });
      assert.equal(readLock(db)?.command, command);
      assert.equal(said(), words);
      releaseLock(db, held.lock);
    }
    db.prepare("INSERT INTO locks (name, owner, pid, host, acquired_at, heartbeat_at) VALUES ('sync', '110@host-a', 110, 'host-a', ?, ?)").run(
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
    );
    assert.equal(said(), 'another process (a sync, an apply --commit or a watch write) holds the sync lock on this database');
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

  it('a live process on this host keeps the lock whatever its heartbeat says; gone, it is taken over at once', () => {
    const row = {
      name: 'sync',
      owner: '5@host-a',
      pid: 5,
      host: 'host-a',
      acquiredAt: '2026-01-01T00:00:00.000Z',
      heartbeatAt: '2026-01-01T00:00:00.000Z',
      runId: null,
      command: null,
    };
    alive.add(5);
    assert.equal(staleReason(row, env(6, 'host-a', Date.parse('2026-01-01T00:00:30Z'))), undefined);
    // An apply or a watch write that missed its heartbeats is still writing: never two writers here.
    assert.equal(staleReason(row, env(6, 'host-a', Date.parse('2026-01-01T05:00:00Z'))), undefined);
    assert.equal(staleReason(row, { ...env(6, 'host-a', Date.parse('2026-01-01T00:00:30Z')), staleMs: 1000 }), undefined);
    alive.delete(5);
    assert.match(staleReason(row, env(6, 'host-a', Date.parse('2026-01-01T00:00:01Z')))!, /process 5 is gone/);
    // The same row on another host is judged by its heartbeat's age.
    assert.match(staleReason({ ...row, host: 'host-b' }, env(6, 'host-a', Date.parse('2026-01-01T00:05:00Z')))!, /no heartbeat/);
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

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('a waiting taker says who holds the lock, marks itself waiting, and takes the lock once it is released', async () => {
    const db = freshDb();
    alive.add(700);
    const holder = acquireLock(db, env(700, 'host-a', Date.now()));
    const told: LockRow[] = [];
    const release = sleep(300).then(() => {
      // Meanwhile the waiter is marked, for watch's writer to see; a mark left unrefreshed for 10 s would not count.
      assert.equal(readLock(db, SYNC_WAITING)?.pid, process.pid);
      assert.equal(syncWaiting(db), true);
      assert.equal(syncWaiting(db, { now: () => Date.now() + 11_000 }), false);
      releaseLock(db, holder.lock);
    });
    const taken = await acquireLockWaiting(db, { waitMs: 30_000, onWait: (h) => told.push(h) });
    await release;
    assert.equal(taken.lock.pid, process.pid);
    assert.deepEqual(
      told.map((h) => h.owner),
      ['700@host-a'],
    );
    assert.equal(readLock(db, SYNC_WAITING), undefined, 'the waiting mark is gone once the lock is taken');
    db.close();
  });

  it('a waiting taker gives up after waitMs with LockHeldError naming the holder and the wait; 0 does not wait', async () => {
    const db = freshDb();
    alive.add(701);
    acquireLock(db, { ...env(701, 'host-a', Date.now()), runId: 3 });
    await assert.rejects(acquireLockWaiting(db, { waitMs: 300 }), (error: unknown) => {
      assert.ok(error instanceof LockHeldError);
      assert.match(error.message, /701@host-a since .* \(run #3\), last heartbeat .*; gave up after waiting 0\.\d s/);
      assert.ok(error.waitedMs >= 300);
      return true;
    });
    assert.equal(readLock(db, SYNC_WAITING), undefined);
    await assert.rejects(acquireLockWaiting(db, { waitMs: 0 }), (error: unknown) => error instanceof LockHeldError && error.waitedMs === 0);
    db.close();
  });

  it('a waiting taker stopped by its signal ends the wait at once, takes nothing and leaves no waiting mark', async () => {
    const db = freshDb();
    alive.add(702);
    const holder = acquireLock(db, env(702, 'host-a', Date.now()));
    const stop = new AbortController();
    const waiting = acquireLockWaiting(db, { waitMs: 60_000, signal: stop.signal });
    await sleep(300);
    assert.equal(readLock(db, SYNC_WAITING)?.pid, process.pid);
    stop.abort();
    await assert.rejects(waiting, (error: unknown) => error instanceof LockWaitAborted && error.waitedMs >= 300 && error.waitedMs < 60_000);
    assert.equal(readLock(db, SYNC_WAITING), undefined);
    assert.equal(readLock(db)?.owner, holder.lock.owner);
    db.close();
  });

  it("watch's writer lets a waiting sync in between two writes, and takes no write while the sync holds the lock", async () => {
    const db = freshDb();
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const gate = new SyncLockGate(db, quiet);
    let syncHolds = false;
    let writesDuringSync = 0;
    let stop = false;
    // Two writers back to back: without the waiting mark the lock would stay held for 5 s at a stretch.
    const writer = async () => {
      while (!stop)
        await gate.hold(async () => {
          if (syncHolds) writesDuringSync++;
          await sleep(30);
        });
    };
    const writers = [writer(), writer()];
    await sleep(100);
    assert.equal(readLock(db)?.pid, process.pid, 'the writers hold the lock');
    const result = await withLock(db, { waitMs: 4000 }, async () => {
      syncHolds = true;
      await sleep(300);
      syncHolds = false;
      return 'synced';
    });
    stop = true;
    await Promise.all(writers);
    assert.equal(result, 'synced');
    assert.equal(writesDuringSync, 0);
    db.close();
  });
});
