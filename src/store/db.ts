import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError, ioMessage } from '../errors.js';
import { assertRegularOrAbsent } from '../files.js';
import { migrationsDir } from '../paths.js';

export type Db = Database.Database;

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/** A statement prepared once per connection: an apply runs the same few thousands of times (preparing parses the SQL). */
export function statement(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let prepared = cache.get(sql);
  if (!prepared) cache.set(sql, (prepared = db.prepare(sql)));
  return prepared;
}

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
  const pending = migrations.filter((m) => !applied.has(m.version));
  if (pending.length === 0) return;
  // A migration may rebuild a table others refer to: with foreign keys on, dropping the old table would
  // delete the rows that refer to it. They are off while migrating (the pragma cannot change inside a
  // transaction) and checked before each migration commits.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    for (const migration of pending) {
      db.transaction(() => {
        db.exec(migration.sql);
        const broken = db.pragma('foreign_key_check') as { table: string; parent: string }[];
        if (broken.length > 0) {
          throw new InputError(
            `${db.name}: migration ${migration.name} would break ${broken.length} reference(s) (${broken[0]!.table} → ${broken[0]!.parent}); nothing was changed`,
          );
        }
        record.run(migration.version, migration.name, new Date().toISOString());
      })();
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
}

/** PRAGMA application_id of invrecon's snapshot databases ("INVR"): tells them from other SQLite files. */
export const APPLICATION_ID = 0x494e5652;
const SQLITE_HEADER = 'SQLite format 3\u0000';

function readHeader(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(16);
    const n = readSync(fd, buffer, 0, 16, 0);
    return buffer.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** A snapshot database that SQLite cannot read (truncated, overwritten): one line, not a stack trace. */
export function databaseFailure(path: string, error: unknown): InputError | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new InputError(`${path}: the snapshot database is damaged (${(error as Error).message}); move it aside (snapshot.path) and pull again`);
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
    return new InputError(`${path}: cannot write the snapshot database (${(error as Error).message}); check snapshot.path and its folder's permissions`);
  }
  if (code === 'SQLITE_FULL') return new InputError(`${path}: the disk is full (${(error as Error).message})`);
  if (code.startsWith('SQLITE_IOERR')) return new InputError(`${path}: I/O error on the snapshot database (${(error as Error).message})`);
  return undefined;
}

/** Stamps a new or recognised database as invrecon's; refuses another application's SQLite file. */
function claim(db: Db, path: string): void {
  const id = db.pragma('application_id', { simple: true }) as number;
  if (id === APPLICATION_ID) return;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  // An invrecon database from before the stamp is known by its migrations table.
  const ours = tables.length === 0 || (id === 0 && tables.includes('schema_migrations') && tables.includes('snapshots'));
  if (!ours) {
    throw new InputError(
      `${path}: snapshot.path is a SQLite database of another application${id !== 0 ? ` (application_id ${id})` : ` (tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''})`}; invrecon will not write into it: point snapshot.path at a new file`,
    );
  }
  db.pragma(`application_id = ${APPLICATION_ID}`);
}

/**
 * Opens (creating if needed, mode 0600) and migrates the snapshot database. The path is checked before
 * anything touches it: a folder, a device or a file that is not SQLite is refused, never chmod'ed.
 */
export function openDb(path: string): Db {
  const exists = assertRegularOrAbsent(path, 'snapshot.path');
  if (exists) {
    let header: string;
    try {
      header = readHeader(path);
    } catch (error) {
      throw new InputError(`${path}: cannot read the snapshot database: ${ioMessage(error)}`);
    }
    if (header.length > 0 && header !== SQLITE_HEADER) {
      throw new InputError(
        `${path}: snapshot.path is not a SQLite database (it holds something else); invrecon will not touch it: point snapshot.path at a new file`,
      );
    }
  } else {
    try {
      mkdirSync(dirname(path), { recursive: true });
      closeSync(openSync(path, 'wx', 0o600));
    } catch (error) {
      throw new InputError(`${path}: cannot create the snapshot database: ${ioMessage(error)}`);
    }
  }
  let db: Db | undefined;
  try {
    db = new Database(path);
    claim(db, path);
    chmodSync(path, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    // WAL side files hold the same data: keep them private too.
    for (const side of ['-wal', '-shm']) if (existsSync(path + side)) chmodSync(path + side, 0o600);
    return db;
  } catch (error) {
    db?.close();
    const failure = databaseFailure(path, error);
    if (failure) throw failure;
    if ((error as NodeJS.ErrnoException).syscall) throw new InputError(`${path}: cannot use the snapshot database: ${ioMessage(error)}`);
    throw error;
  }
}
