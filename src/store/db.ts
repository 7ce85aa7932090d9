import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { migrationsDir } from '../paths.js';

export type Db = Database.Database;

interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir: string = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d+_.*\.sql$/.test(file))
    .map((file) => ({ version: Number.parseInt(file, 10), name: file, sql: readFileSync(join(dir, file), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/** Applies pending migrations in order, each in its own transaction, and records them. */
export function migrate(db: Db, migrations: Migration[] = listMigrations()): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const newest = Math.max(0, ...applied);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (newest > known) {
    throw new InputError(
      `${db.name}: the snapshot database is at schema version ${newest}, newer than this invrecon knows (${known}); upgrade invrecon or use another snapshot.path`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    })();
  }
}

/** Opens (creating if needed, mode 0600) and migrates the snapshot database. */
export function openDb(path: string): Db {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  // WAL side files hold the same data: keep them private too.
  for (const side of ['-wal', '-shm']) if (existsSync(path + side)) chmodSync(path + side, 0o600);
  return db;
}
