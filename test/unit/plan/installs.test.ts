import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StaleError } from '../../../src/errors.js';
import { ABANDONED_AFTER_MS, claimShop, conflictingApplies, parseRecord, withEntry, type ShopApply } from '../../../src/plan/apply/installs.js';
import { recordShop } from './record-shop.js';

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

describe('claiming the shop from a copy of its record', () => {
  const planOf = (takenAt: string) => ({ digest: 'b'.repeat(64), baseline: { shopify: { takenAt } } }) as Parameters<typeof claimShop>[1];
  const copy = (value: string | undefined, digest: string | null) => ({ shopId: 'gid://shopify/Shop/1', record: parseRecord(value), digest });

  it('a copy that says the shop has no record: one write with a null digest', async () => {
    const shop = recordShop();
    const claimed = await claimShop(shop.client, planOf('2026-01-01T00:00:00.000Z'), 'me', copy(undefined, null));
    assert.deepEqual(shop.calls, ['SetShopAppliesRecord']);
    assert.equal(claimed.digest, 'd1');
    assert.equal(parseRecord(shop.stored()!.value).applies[0]!.finishedAt, null);
  });

  it('a refused write from a copy, whatever the code, reads the record and judges that one', async () => {
    // Another install's apply that finished before this plan's baseline: no conflict, but the copy is out of date.
    const other = JSON.stringify({ version: 1, applies: [entry({})] });
    for (const code of ['STALE_OBJECT', 'TAKEN']) {
      const shop = recordShop({ value: other, digest: 'x' }, code);
      const claimed = await claimShop(shop.client, planOf('2026-01-01T02:00:00.000Z'), 'me', copy(undefined, null));
      assert.deepEqual(shop.calls, ['SetShopAppliesRecord', 'ShopAppliesRecord', 'SetShopAppliesRecord'], code);
      assert.equal(claimed.record.applies.length, 2);
    }
  });

  it('a conflict is only final on a record just read; a refusal there still refuses', async () => {
    const running = JSON.stringify({ version: 1, applies: [entry({ finishedAt: null })] });
    // The copy shows the conflict, the shop no longer does (that entry was replaced by a later plan finished long ago).
    const shop = recordShop({ value: JSON.stringify({ version: 1, applies: [] }), digest: 'y' });
    await claimShop(shop.client, planOf('2026-01-01T00:30:00.000Z'), 'me', copy(running, 'old'));
    assert.deepEqual(shop.calls, ['ShopAppliesRecord', 'SetShopAppliesRecord']);
    // The shop's record itself shows another install running: refused, nothing written.
    const busy = recordShop({ value: running, digest: 'z' });
    await assert.rejects(claimShop(busy.client, planOf('2026-01-01T00:30:00.000Z'), 'me', copy(undefined, null)), StaleError);
    assert.deepEqual(busy.calls, ['SetShopAppliesRecord', 'ShopAppliesRecord']);
    assert.equal(busy.stored()!.digest, 'z');
  });
});
