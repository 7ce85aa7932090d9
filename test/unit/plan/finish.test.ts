import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLAIM_AGAIN_BEFORE_MS, ShopFinish, WRITES_OVER_WITHIN_MS, type FinishClock } from '../../../src/plan/apply/finish.js';
import { SourceError } from '../../../src/errors.js';
import { claimShop, parseRecord } from '../../../src/plan/apply/installs.js';
import { recordShop } from './record-shop.js';

const plan = { digest: 'b'.repeat(64), baseline: { shopify: { takenAt: '2026-01-01T00:00:00.000Z' } } } as Parameters<typeof claimShop>[1];
const T0 = Date.parse('2026-01-01T01:00:00.000Z');

/** A clock the test moves, and the one timer ShopFinish sets (which never fires when the event loop is held up). */
function testClock({ timerFires = true } = {}) {
  let now = T0;
  let timer: { run: () => void; at: number } | undefined;
  const clock: FinishClock = {
    now: () => new Date(now),
    setTimer(run, ms) {
      timer = { run, at: now + ms };
      return () => (timer = undefined);
    },
  };
  return {
    clock,
    /** Moves the clock, firing the timer if it comes due. */
    advance(ms: number) {
      now += ms;
      if (timer && timer.at <= now && timerFires) {
        const due = timer;
        timer = undefined;
        due.run();
      }
    },
  };
}

/** The shop claimed by this apply, and its finish under a test clock. */
async function claimed(clock: { timerFires?: boolean } = {}) {
  const shop = recordShop();
  const held = await claimShop(shop.client, plan, 'me', { shopId: 'gid://shopify/Shop/1', record: parseRecord(undefined), digest: null });
  shop.calls.length = 0;
  const time = testClock(clock);
  return { shop, time, finish: new ShopFinish(shop.client, plan, 'me', held, time.clock) };
}
const finishedAt = (shop: ReturnType<typeof recordShop>) => parseRecord(shop.stored()!.value).applies[0]!.finishedAt;
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("an apply's finish, promised to the shop's record while its last writes are out", () => {
  it('goes once the last batch has started and its call has gone, a few seconds ahead; nothing is written after', async () => {
    const { shop, time, finish } = await claimed();
    finish.starting(1);
    finish.starting(2);
    finish.sent(1);
    finish.allStarted();
    await settle();
    assert.deepEqual(shop.calls, [], 'the last batch has not sent its call yet');
    time.advance(300);
    finish.sent(2);
    await settle();
    assert.deepEqual(shop.calls, ['SetShopAppliesRecord']);
    assert.equal(finishedAt(shop), new Date(T0 + 300 + WRITES_OVER_WITHIN_MS).toISOString());
    assert.equal(finish.beforeWrite(), undefined, 'a retry well before the promise goes at once');
    time.advance(500);
    const held = await finish.done();
    assert.deepEqual(shop.calls, ['SetShopAppliesRecord'], 'the promise holds: no write after the last answer');
    assert.equal(held.digest, shop.stored()!.digest);
  });

  it('an apply still running near its promise claims the shop again, its writes wait for that, and the finish is written at the end', async () => {
    const { shop, time, finish } = await claimed();
    finish.starting(1);
    finish.sent(1);
    finish.allStarted();
    await settle();
    time.advance(WRITES_OVER_WITHIN_MS - CLAIM_AGAIN_BEFORE_MS);
    const wait = finish.beforeWrite();
    assert.ok(wait, 'a write now waits');
    await wait;
    assert.deepEqual(shop.calls, ['SetShopAppliesRecord', 'SetShopAppliesRecord']);
    assert.equal(finishedAt(shop), null, 'running again');
    time.advance(10_000);
    await finish.done();
    assert.deepEqual(shop.calls, ['SetShopAppliesRecord', 'SetShopAppliesRecord', 'SetShopAppliesRecord']);
    assert.equal(finishedAt(shop), new Date(T0 + WRITES_OVER_WITHIN_MS - CLAIM_AGAIN_BEFORE_MS + 10_000).toISOString());
  });

  it('a write asks again when the timer ran late (a busy event loop), and a finish past its promise is written again', async () => {
    const late = await claimed({ timerFires: false });
    late.finish.starting(1);
    late.finish.sent(1);
    late.finish.allStarted();
    await settle();
    late.time.advance(WRITES_OVER_WITHIN_MS - CLAIM_AGAIN_BEFORE_MS - 1);
    assert.equal(late.finish.beforeWrite(), undefined);
    late.time.advance(1);
    await late.finish.beforeWrite();
    assert.deepEqual(late.shop.calls, ['SetShopAppliesRecord', 'SetShopAppliesRecord']);
    assert.equal(finishedAt(late.shop), null);

    // The last answer came after the promise, no write having asked: the finish is written as of now.
    const past = await claimed({ timerFires: false });
    past.finish.starting(1);
    past.finish.sent(1);
    past.finish.allStarted();
    await settle();
    past.time.advance(WRITES_OVER_WITHIN_MS);
    await past.finish.done();
    assert.deepEqual(past.shop.calls, ['SetShopAppliesRecord', 'SetShopAppliesRecord']);
    assert.equal(finishedAt(past.shop), new Date(T0 + WRITES_OVER_WITHIN_MS).toISOString());
  });

  it('a failed apply takes its promise back; a promise whose answer was lost is written again at the end', async () => {
    const failed = await claimed();
    failed.finish.starting(1);
    failed.finish.sent(1);
    failed.finish.allStarted();
    await settle();
    assert.ok(finishedAt(failed.shop));
    await failed.finish.failed();
    assert.equal(finishedAt(failed.shop), null, 'left running for a resume');

    const lost = await claimed();
    lost.shop.fail(1);
    lost.finish.starting(1);
    lost.finish.sent(1);
    lost.finish.allStarted();
    await settle();
    lost.time.advance(400);
    await lost.finish.done();
    assert.equal(finishedAt(lost.shop), new Date(T0 + 400).toISOString());
  });

  it('promises nothing without a batch: the finish is written as of the end', async () => {
    const { shop, time, finish } = await claimed();
    finish.allStarted();
    await settle();
    assert.deepEqual(shop.calls, []);
    time.advance(100);
    await finish.done();
    assert.equal(finishedAt(shop), new Date(T0 + 100).toISOString());
  });

  it('another install that applied once the promise had passed: this apply stops writing, and takes its promise back all the same', async () => {
    const { shop, time, finish } = await claimed({ timerFires: false });
    finish.starting(1);
    finish.sent(1);
    finish.allStarted();
    await settle();
    // The event loop was held up past the promise; another install read its snapshot and claimed meanwhile.
    time.advance(WRITES_OVER_WITHIN_MS + 1000);
    const record = parseRecord(shop.stored()!.value);
    const other = {
      planDigest: 'c'.repeat(64),
      install: 'other',
      baselineAt: new Date(T0 + WRITES_OVER_WITHIN_MS + 500).toISOString(),
      startedAt: new Date(T0 + WRITES_OVER_WITHIN_MS + 900).toISOString(),
      finishedAt: null,
    };
    shop.put(JSON.stringify({ version: 1, applies: [...record.applies, other] }));
    await assert.rejects(finish.beforeWrite()!, (error: Error) => error instanceof SourceError && /could not claim the shop again/.test(error.message));
    assert.equal(await finish.failed(), undefined);
    const mine = parseRecord(shop.stored()!.value).applies.find((a) => a.install === 'me')!;
    assert.equal(mine.finishedAt, null, 'marked running again: its last writes may yet be applied by a resume');
  });

  it('a promise that could not be taken back is said', async () => {
    const { shop, finish } = await claimed();
    finish.starting(1);
    finish.sent(1);
    finish.allStarted();
    await settle();
    shop.fail(10);
    assert.match((await finish.failed()) ?? '', /may still say this apply's writes were over by .*could not be marked running again/);
  });
});
