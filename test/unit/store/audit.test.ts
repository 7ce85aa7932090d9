import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { otherPlanChangesLookup } from '../../../src/plan/apply/checks.js';
import { readLog, recordChanges, type AuditChange } from '../../../src/store/audit.js';
import { listMigrations, migrate, openDb } from '../../../src/store/db.js';
import { tempDir } from '../../helpers/cli.js';

const change = (sku: string, planDigest: string | null, after: number, outcome: AuditChange['outcome'] = 'applied'): AuditChange => ({
  planDigest,
  sku,
  inventoryItemId: `gid://shopify/InventoryItem/${sku}`,
  locationId: 'gid://shopify/Location/1',
  before: after - 1,
  after,
  rule: `rule of ${sku}`,
  outcome,
});

describe('audit log of level changes (one set per call)', () => {
  const workspace = tempDir();
  after(() => workspace.cleanup());

  it('migration 120 keeps every earlier per-level row, in order, and the audit_changes view still lists them', () => {
    const path = join(workspace.dir, 'old.db');
    const old = new Database(path);
    migrate(
      old,
      listMigrations().filter((m) => m.version < 120),
    );
    const insert = old.prepare(
      'INSERT INTO audit_changes (at, plan_digest, sku, inventory_item_id, location_id, before, after, rule, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run('2026-01-01T00:00:00.000Z', 'p1', 'A', 'I-A', 'L', 1, 2, 'r', 'applied');
    insert.run('2026-01-01T00:00:00.000Z', 'p1', 'B', 'I-B', 'L', null, 7, null, 'unknown');
    insert.run('2026-01-02T00:00:00.000Z', null, 'A', 'I-A', 'L', 2, 3, 'watch (erp)', 'applied');
    old.close();

    const db = openDb(path);
    try {
      const rows = db
        .prepare('SELECT at, plan_digest, sku, inventory_item_id, location_id, before, after, rule, outcome FROM audit_changes ORDER BY id')
        .raw()
        .all();
      assert.deepEqual(rows, [
        ['2026-01-01T00:00:00.000Z', 'p1', 'A', 'I-A', 'L', 1, 2, 'r', 'applied'],
        ['2026-01-01T00:00:00.000Z', 'p1', 'B', 'I-B', 'L', null, 7, null, 'unknown'],
        ['2026-01-02T00:00:00.000Z', null, 'A', 'I-A', 'L', 2, 3, 'watch (erp)', 'applied'],
      ]);
      assert.deepEqual(
        readLog(db, { sku: 'A' }).changes.map((c) => [c.planDigest, c.after]),
        [
          ['p1', 2],
          [null, 3],
        ],
      );
    } finally {
      db.close();
    }
  });

  it('writes one row per call, and reads the newest levels back in order, by plan and by SKU, across sets', () => {
    const db = openDb(join(workspace.dir, 'new.db'));
    try {
      recordChanges(db, [change('A', 'aaaa1', 1), change('B', 'aaaa1', 2), change('C', 'aaaa1', 3)], '2026-02-01T00:00:00.000Z');
      recordChanges(db, [change('B', null, 4), change('D', null, 5, 'confirmed')], '2026-02-02T00:00:00.000Z');
      recordChanges(db, [change('A', 'bbbb2', 6, 'unknown')], '2026-02-03T00:00:00.000Z');
      assert.equal(db.prepare('SELECT COUNT(*) FROM audit_change_sets').pluck().get(), 3);
      assert.equal(db.prepare('SELECT COUNT(*) FROM audit_changes').pluck().get(), 6);

      const all = readLog(db).changes;
      assert.deepEqual(
        all.map((c) => [c.sku, c.after, c.outcome]),
        [
          ['A', 1, 'applied'],
          ['B', 2, 'applied'],
          ['C', 3, 'applied'],
          ['B', 4, 'applied'],
          ['D', 5, 'confirmed'],
          ['A', 6, 'unknown'],
        ],
      );
      assert.deepEqual(
        all.map((c) => c.id),
        [...all.map((c) => c.id)].sort((a, b) => a - b),
        'ids rise with time',
      );
      // The newest 3, oldest of them first, as before.
      assert.deepEqual(
        readLog(db, { limit: 3 }).changes.map((c) => c.after),
        [4, 5, 6],
      );
      assert.deepEqual(
        readLog(db, { plan: 'aaaa' }).changes.map((c) => c.sku),
        ['A', 'B', 'C'],
      );
      assert.deepEqual(
        readLog(db, { sku: 'B' }).changes.map((c) => [c.planDigest, c.after, c.rule]),
        [
          ['aaaa1', 2, 'rule of B'],
          [null, 4, 'rule of B'],
        ],
      );
      // A SKU whose name appears inside another's JSON text only as part of it is not matched.
      assert.deepEqual(readLog(db, { sku: 'rule of A' }).changes, []);
    } finally {
      db.close();
    }
  });

  it("finds the levels others changed after a plan's baseline, and (live) what they add while it applies", () => {
    const db = openDb(join(workspace.dir, 'lookup.db'));
    try {
      const plan = { digest: 'mine', baseline: { shopify: { takenAt: '2026-03-01T00:00:00.000Z' } } } as Parameters<typeof otherPlanChangesLookup>[1];
      const level = (sku: string) => ({ inventoryItemId: `gid://shopify/InventoryItem/${sku}`, locationId: 'gid://shopify/Location/1' });
      recordChanges(db, [change('OLD', 'other', 1)], '2026-02-28T00:00:00.000Z');
      recordChanges(db, [change('MINE', 'mine', 1)], '2026-03-02T00:00:00.000Z');
      recordChanges(db, [change('X', 'other', 1)], '2026-03-02T00:00:00.000Z');
      const live = otherPlanChangesLookup(db, plan, { live: true });
      const once = otherPlanChangesLookup(db, plan, { live: false });
      assert.equal(live(level('X')), 'other');
      assert.equal(once(level('X')), 'other');
      assert.equal(live(level('OLD')), undefined, 'before the baseline');
      assert.equal(live(level('MINE')), undefined, 'its own writes');
      recordChanges(db, [change('W', null, 1)], '2026-03-03T00:00:00.000Z');
      assert.equal(live(level('W')), '', 'watch, written after the first look');
      assert.equal(once(level('W')), undefined, 'read once');
    } finally {
      db.close();
    }
  });
});
