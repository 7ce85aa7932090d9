import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvreconError } from '../errors.js';
import type { Db } from '../store/db.js';

/** One sync at a time per database. */
export const SYNC_LOCK = 'sync';
/** A holder on another host whose heartbeat is older than this is presumed dead (this host asks its pid instead). */
export const DEFAULT_STALE_MS = 15 * 60_000;
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** A sync waiting for the lock marks itself under this name, so watch's writer stops taking it and lets the sync in. */
export const SYNC_WAITING = 'sync-waiting';
/** How often a waiting taker tries the lock again. */
const WAIT_POLL_MS = 250;

export interface LockRow {
  name: string;
  owner: string;
  pid: number;
  host: string;
  acquiredAt: string;
  heartbeatAt: string;
  runId: number | null;
  /** The command holding it (sync, apply, watch); null for a lock taken by an older version. */
  command: LockCommand | null;
}

/** The commands that take the sync lock. */
export type LockCommand = 'sync' | 'apply' | 'watch';

const HOLDER: Record<LockCommand, string> = { sync: 'another sync', apply: 'an apply --commit', watch: 'a watch write' };

export interface LockIdentity {
  pid: number;
  host: string;
}

export interface LockEnvironment {
  now?: () => number;
  /** Whether a pid runs on this host (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  self?: LockIdentity;
  staleMs?: number;
  /**
   * Judge a live process on this host by its heartbeat's age too (default false: a live pid here keeps the
   * lock whatever its age). Only for the waiting mark, which counts only while its waiter refreshes it.
   */
  ageOnThisHost?: boolean;
}

/** The lock is held by a live process: exit 1, naming it. */
export class LockHeldError extends InvreconError {
  readonly holder: LockRow;
  /** How long the taker waited for the holder before giving up (0: it did not wait). */
  waitedMs = 0;
  constructor(holder: LockRow, note = '') {
    super(
      'usage',
      `${holder.command ? HOLDER[holder.command] : 'another process (a sync, an apply --commit or a watch write)'} holds the sync lock on this database: ${holder.owner} since ${holder.acquiredAt}` +
        `${holder.runId !== null ? ` (run #${holder.runId})` : ''}, last heartbeat ${holder.heartbeatAt}${note}`,
      ['wait for it to finish; a holder that died is taken over automatically once its process is gone or its heartbeat is stale'],
    );
    this.holder = holder;
  }
}

/** The wait for the lock was stopped (a signal): nothing was taken, the waiting mark is gone. */
export class LockWaitAborted extends Error {
  constructor(readonly waitedMs: number) {
    super('stopped while waiting for the sync lock');
  }
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function currentIdentity(): LockIdentity {
  return { pid: process.pid, host: hostname() };
}

interface RawLock {
  name: string;
  owner: string;
  pid: number;
  host: string;
  acquired_at: string;
  heartbeat_at: string;
  run_id: number | null;
  command: LockCommand | null;
}

function toRow(raw: RawLock): LockRow {
  return {
    name: raw.name,
    owner: raw.owner,
    pid: raw.pid,
    host: raw.host,
    acquiredAt: raw.acquired_at,
    heartbeatAt: raw.heartbeat_at,
    runId: raw.run_id,
    command: raw.command ?? null,
  };
}

export function readLock(db: Db, name: string = SYNC_LOCK): LockRow | undefined {
  const raw = db.prepare('SELECT * FROM locks WHERE name = ?').get(name) as RawLock | undefined;
  return raw ? toRow(raw) : undefined;
}

/** Why a holder is presumed dead, or undefined while it looks alive. */
export function staleReason(row: LockRow, env: LockEnvironment = {}): string | undefined {
  const self = env.self ?? currentIdentity();
  const isAlive = env.isAlive ?? processIsAlive;
  const now = (env.now ?? Date.now)();
  const staleMs = env.staleMs ?? DEFAULT_STALE_MS;
  if (row.host === self.host && row.pid !== self.pid) {
    if (!isAlive(row.pid)) return `process ${row.pid} is gone`;
    // A live apply or watch write can miss heartbeats (a long synchronous step): taken over by age, it
    // would write beside the taker. Its pid says it is there.
    if (!env.ageOnThisHost) return undefined;
  }
  const age = now - Date.parse(row.heartbeatAt);
  if (!(age <= staleMs)) return `no heartbeat for ${Math.round(age / 1000)} s (stale after ${Math.round(staleMs / 1000)} s)`;
  return undefined;
}

export interface AcquiredLock {
  lock: LockRow;
  /** The dead holder taken over, and why it was judged dead. */
  tookOver?: { holder: LockRow; reason: string };
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Takes the lock atomically (check and insert in one BEGIN IMMEDIATE transaction). A live holder
 * throws LockHeldError; a dead one (its pid gone on this host, or its heartbeat stale) is replaced.
 */
export function acquireLock(db: Db, options: LockEnvironment & { name?: string; runId?: number | null; command?: LockCommand } = {}): AcquiredLock {
  const name = options.name ?? SYNC_LOCK;
  const self = options.self ?? currentIdentity();
  const now = options.now ?? Date.now;
  // Read first: a live holder is reported without waiting for the write lock it may be holding.
  const seen = readLock(db, name);
  if (seen && staleReason(seen, options) === undefined) throw new LockHeldError(seen);
  let tookOver: AcquiredLock['tookOver'];
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    if (!isBusy(error)) throw error;
    const holder = readLock(db, name);
    if (holder) throw new LockHeldError(holder, ' (the database is busy: its holder is writing)');
    throw error;
  }
  try {
    const current = readLock(db, name);
    if (current) {
      const reason = staleReason(current, options);
      if (reason === undefined) throw new LockHeldError(current);
      db.prepare('DELETE FROM locks WHERE name = ?').run(name);
      tookOver = { holder: current, reason };
    }
    const at = new Date(now()).toISOString();
    const owner = `${self.pid}@${self.host}`;
    const command = options.command ?? null;
    db.prepare('INSERT INTO locks (name, owner, pid, host, acquired_at, heartbeat_at, run_id, command) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      name,
      owner,
      self.pid,
      self.host,
      at,
      at,
      options.runId ?? null,
      command,
    );
    db.exec('COMMIT');
    return { lock: { name, owner, pid: self.pid, host: self.host, acquiredAt: at, heartbeatAt: at, runId: options.runId ?? null, command }, tookOver };
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** True while the row is still ours (a takeover by someone else makes it false). */
export function stillHeld(db: Db, lock: LockRow): boolean {
  const current = readLock(db, lock.name);
  return current !== undefined && current.owner === lock.owner && current.acquiredAt === lock.acquiredAt;
}

/**
 * Refreshes the heartbeat. On the caller's connection: while a snapshot transaction is open, the update
 * joins it (and becomes visible with it). Returns false when the lock is no longer ours.
 */
export function heartbeat(db: Db, lock: LockRow, now: () => number = Date.now): boolean {
  const at = new Date(now()).toISOString();
  const changed = db
    .prepare('UPDATE locks SET heartbeat_at = ? WHERE name = ? AND owner = ? AND acquired_at = ?')
    .run(at, lock.name, lock.owner, lock.acquiredAt).changes;
  if (changed > 0) lock.heartbeatAt = at;
  return changed > 0;
}

export function setLockRun(db: Db, lock: LockRow, runId: number): void {
  db.prepare('UPDATE locks SET run_id = ? WHERE name = ? AND owner = ? AND acquired_at = ?').run(runId, lock.name, lock.owner, lock.acquiredAt);
  lock.runId = runId;
}

/** Removes the lock if it is still ours. */
export function releaseLock(db: Db, lock: LockRow): void {
  db.prepare('DELETE FROM locks WHERE name = ? AND owner = ? AND acquired_at = ?').run(lock.name, lock.owner, lock.acquiredAt);
}

export interface LockWait {
  /** How long to wait for a live holder before giving up with LockHeldError; 0 gives up at once. */
  waitMs?: number;
  /** Told once per holder (pid@host) met while waiting: who holds it, to say so. */
  onWait?: (holder: LockRow) => void;
  /** Stops the wait (LockWaitAborted), the waiting mark released. */
  signal?: AbortSignal;
}

/** A waiting mark not refreshed for this long is left by a waiter that is gone (it refreshes it every 250 ms). */
const WAITING_STALE_MS = 10_000;

/** Whether a live sync is waiting for the lock (watch's writer then lets it go between two writes). */
export function syncWaiting(db: Db, env: LockEnvironment = {}): boolean {
  const waiter = readLock(db, SYNC_WAITING);
  return waiter !== undefined && staleReason(waiter, { ...env, staleMs: WAITING_STALE_MS, ageOnThisHost: true }) === undefined;
}

/**
 * acquireLock, waiting up to `waitMs` while a live process holds the lock: tried again every 250 ms,
 * marked as waiting (SYNC_WAITING) meanwhile. Gives up with LockHeldError naming the holder and the wait.
 */
export async function acquireLockWaiting(
  db: Db,
  options: LockEnvironment & LockWait & { name?: string; runId?: number | null; command?: LockCommand } = {},
): Promise<AcquiredLock> {
  const waitMs = options.waitMs ?? 0;
  const started = Date.now();
  let marker: LockRow | undefined;
  let told: string | undefined;
  const aborted = () => new LockWaitAborted(Date.now() - started);
  try {
    for (;;) {
      if (options.signal?.aborted) throw aborted();
      try {
        return acquireLock(db, options);
      } catch (error) {
        if (!(error instanceof LockHeldError) || waitMs <= 0) throw error;
        const waited = Date.now() - started;
        if (waited >= waitMs) {
          const gaveUp = new LockHeldError(error.holder, `; gave up after waiting ${Number((waited / 1000).toFixed(1))} s`);
          gaveUp.waitedMs = waited;
          throw gaveUp;
        }
        if (told !== error.holder.owner) {
          told = error.holder.owner;
          options.onWait?.(error.holder);
        }
        // Another waiter may hold the marker: it lets watch's writer know all the same.
        if ((options.name ?? SYNC_LOCK) === SYNC_LOCK) marker = markWaiting(db, marker, options);
        try {
          await sleep(Math.min(WAIT_POLL_MS, waitMs - waited), undefined, { signal: options.signal });
        } catch (stopped) {
          if (options.signal?.aborted) throw aborted();
          throw stopped;
        }
      }
    }
  } finally {
    if (marker) releaseLock(db, marker);
  }
}

/**
 * Takes or refreshes the waiting mark, without waiting for the database: while the holder is inside a
 * write transaction (a snapshot being written, say) the mark is tried again at the next poll.
 */
function markWaiting(db: Db, marker: LockRow | undefined, options: LockEnvironment): LockRow | undefined {
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    if (marker) {
      heartbeat(db, marker);
      return marker;
    }
    return acquireLock(db, { ...options, staleMs: WAITING_STALE_MS, ageOnThisHost: true, name: SYNC_WAITING, command: 'sync' }).lock;
  } catch (error) {
    if (error instanceof LockHeldError || isBusy(error)) return marker;
    throw error;
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

export interface HeldLock extends AcquiredLock {
  /** False once another process took the lock over (its heartbeat went stale, or it was deleted). */
  held(): boolean;
}

/**
 * Runs `work` holding the named lock: taken atomically (waiting up to `waitMs` while a live process holds
 * it, then LockHeldError), its heartbeat refreshed every `heartbeatMs` while the work runs, released
 * however the work ends.
 */
export async function withLock<T>(
  db: Db,
  options: LockEnvironment &
    LockWait & { name?: string; runId?: number | null; command?: LockCommand; heartbeatMs?: number; onHeartbeatError?: (error: unknown) => void },
  work: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const acquired = await acquireLockWaiting(db, options);
  let lost = false;
  const beat = setInterval(() => {
    try {
      if (!heartbeat(db, acquired.lock)) lost = true;
    } catch (error) {
      options.onHeartbeatError?.(error);
    }
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  beat.unref();
  try {
    return await work({ ...acquired, held: () => !lost && stillHeld(db, acquired.lock) });
  } finally {
    clearInterval(beat);
    releaseLock(db, acquired.lock);
  }
}
