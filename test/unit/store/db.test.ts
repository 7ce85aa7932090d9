import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { listMigrations, migrate, openDb } from '../../../src/store/db.js';
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
    assert.deepEqual(
      versions,
      listMigrations().map((m) => m.version),
    );
    db.close();
  });

  it('refuses a database newer than the tool', () => {
    const path = join(workspace.dir, 'b.db');
    const db = openDb(path);
    db.prepare("INSERT INTO schema_migrations VALUES (999, '999_future.sql', 'x')").run();
    db.close();
    assert.throws(
      () => openDb(path),
      (error: unknown) => error instanceof InputError && /schema version 999, newer than this invrecon/.test(error.message),
    );
  });

  it('migration 030 rebuilds snapshots with AUTOINCREMENT: levels kept, references still enforced, ids start above any ever named', () => {
    const path = join(workspace.dir, 'c.db');
    const old = new Database(path);
    old.pragma('foreign_keys = ON');
    migrate(
      old,
      listMigrations().filter((m) => m.version < 30),
    );
    const snapshot = old.prepare("INSERT INTO snapshots (id, side, source, taken_at, row_count, content_hash) VALUES (?, ?, 'x', 't', 1, 'h')");
    for (const [id, side] of [
      [1, 'erp'],
      [2, 'shopify'],
      [3, 'erp'],
    ] as const)
      snapshot.run(id, side);
    old.prepare("INSERT INTO erp_levels (snapshot_id, sku, warehouse, on_hand, line) VALUES (1, 'A', 'WH', 5, 2), (3, 'A', 'WH', 6, 2)").run();
    old.prepare("INSERT INTO shopify_levels (snapshot_id, inventory_item_id, location_id, sku, available, on_hand) VALUES (2, 'I', 'L', 'A', 4, 4)").run();
    // An earlier prune removed #4..#9: a run still names #9, the hybrid base #6.
    old.prepare("INSERT INTO reconciled_levels VALUES ('A', 'L', 5, 4, 6, 2, 'd', 't')").run();
    old.prepare('INSERT INTO runs (command, started_at, summary) VALUES (\'sync\', \'t\', \'{"snapshots":{"erp":9,"shopify":8}}\')').run();
    old.close();

    const db = openDb(path);
    try {
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.match(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'snapshots'").pluck().get() as string, /AUTOINCREMENT/);
      assert.deepEqual(db.prepare('SELECT snapshot_id, on_hand FROM erp_levels ORDER BY snapshot_id').raw().all(), [
        [1, 5],
        [3, 6],
      ]);
      assert.equal(db.prepare('SELECT COUNT(*) FROM shopify_levels').pluck().get(), 1);
      assert.deepEqual(db.pragma('foreign_key_check'), []);
      // The next id is above #9, the highest id anything still names.
      const id = db.prepare("INSERT INTO snapshots (side, source, taken_at, row_count, content_hash) VALUES ('erp', 'x', 't', 0, '')").run().lastInsertRowid;
      assert.equal(Number(id), 10);
      // Deleting a snapshot still cascades to its levels, and a plan's reference still blocks it.
      db.prepare('DELETE FROM snapshots WHERE id = 1').run();
      assert.deepEqual(db.prepare('SELECT snapshot_id FROM erp_levels').pluck().all(), [3]);
      db.prepare("INSERT INTO plans VALUES ('d', 'p', 3, 2, 't', 1, 0)").run();
      assert.throws(() => db.prepare('DELETE FROM snapshots WHERE id = 3').run(), /FOREIGN KEY constraint failed/);
    } finally {
      db.close();
    }
  });
});
