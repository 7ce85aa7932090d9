import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ABANDONED_AFTER_MS, conflictingApplies, parseRecord, withEntry, type ShopApply } from '../../../src/plan/apply/installs.js';

const entry = (over: Partial<ShopApply>): ShopApply => ({
  planDigest: 'a'.repeat(64),
  install: 'other',
  baselineAt: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T01:00:00.000Z',
  finishedAt: '2026-01-01T01:05:00.000Z',
  ...over,
});
const plan = (baselineAt: string) => ({ digest: 'b'.repeat(64), baselineAt });

describe('installs sharing a shop: which applies make a plan stale', () => {
  it('another install that finished after the baseline was read, or is running, conflicts', () => {
    const record = {
      version: 1 as const,
      applies: [entry({}), entry({ planDigest: 'c'.repeat(64), finishedAt: null, startedAt: '2026-01-01T03:00:00.000Z' })],
    };
    assert.equal(conflictingApplies(record, plan('2026-01-01T00:30:00.000Z'), 'me').length, 2);
    // A baseline read after the first finished shows its writes; the second still runs.
    assert.deepEqual(
      conflictingApplies(record, plan('2026-01-01T02:00:00.000Z'), 'me').map((a) => a.planDigest[0]),
      ['c'],
    );
  });

  it("this install's own applies and this very plan are left to the local history", () => {
    const record = { version: 1 as const, applies: [entry({ install: 'me' }), entry({ planDigest: 'b'.repeat(64) })] };
    assert.deepEqual(conflictingApplies(record, plan('2026-01-01T00:30:00.000Z'), 'me'), []);
  });

  it('a run that never finished is taken as done six hours after it started', () => {
    const started = Date.parse('2026-01-01T01:00:00.000Z');
    const record = { version: 1 as const, applies: [entry({ finishedAt: null })] };
    assert.equal(conflictingApplies(record, plan(new Date(started + ABANDONED_AFTER_MS - 1000).toISOString()), 'me').length, 1);
    assert.equal(conflictingApplies(record, plan(new Date(started + ABANDONED_AFTER_MS + 1000).toISOString()), 'me').length, 0);
  });

  it('replaces a plan’s own entry, keeps the newest 50, and refuses a record it cannot read', () => {
    let record = parseRecord(undefined);
    for (let i = 0; i < 60; i++) record = withEntry(record, entry({ planDigest: String(i).padStart(64, '0') }));
    record = withEntry(record, entry({ planDigest: String(59).padStart(64, '0'), finishedAt: null }));
    assert.equal(record.applies.length, 50);
    assert.equal(record.applies.at(-1)!.finishedAt, null);
    assert.equal(record.applies.filter((a) => a.planDigest === String(59).padStart(64, '0')).length, 1);
    assert.throws(() => parseRecord('{nope'), /not JSON/);
    assert.throws(() => parseRecord('{"applies": 3}'), /not a record of applied plans/);
  });
});
