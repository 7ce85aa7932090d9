import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listMigrations, openDb } from '../../../src/store/db.js';
import { InputError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/cli.js';

describe('snapshot database', () => {
  const workspace = tempDir();
  after(() => workspace.cleanup());

  it('is created with mode 0600, in WAL mode, with every migration recorded', () => {
    const path = join(workspace.dir, 'a', 'snapshot.db');
    const db = openDb(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    assert.deepEqual(versions, listMigrations().map((m) => m.version));
    db.close();
  });

  it('refuses a database newer than the tool', () => {
    const path = join(workspace.dir, 'b.db');
    const db = openDb(path);
    db.prepare("INSERT INTO schema_migrations VALUES (999, '999_future.sql', 'x')").run();
    db.close();
    assert.throws(() => openDb(path), (error: unknown) => error instanceof InputError && /schema version 999, newer than this invrecon/.test(error.message));
  });
});
