import type { Db } from '../../store/db.js';
import { processIsAlive } from '../lock.js';
import type { LeftOut } from '../../reconcile/diff-model.js';
import type { WatchFigures } from './metrics.js';

/** What `invrecon watch` records every 2 s for status and report (watch_meta 'stats'). */
export interface WatchStats extends Omit<WatchFigures, 'leftOut'> {
  /** Absent from figures a version before it recorded. */
  leftOut?: LeftOut;
  pid: number;
  url: string;
  startedAt: string;
  updatedAt: string;
  running: boolean;
}

/** A watch is running when it said so within the last 15 s and its process is alive. */
export function readWatchStats(db: Db, now = Date.now()): WatchStats | null {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'watch_meta'").get();
  if (!hasTable) return null;
  const text = db.prepare("SELECT value FROM watch_meta WHERE key = 'stats'").pluck().get() as string | undefined;
  if (!text) return null;
  const stats = JSON.parse(text) as WatchStats;
  stats.running = stats.running && now - Date.parse(stats.updatedAt) < 15_000 && processIsAlive(stats.pid);
  return stats;
}
