import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lanes, runPool } from '../../../src/plan/apply/lanes.js';

describe('lanes: calls in flight', () => {
  it('grows by one per answer that did not wait for the bucket, holds while the bucket paces, halves on THROTTLED', () => {
    let t = 0;
    const lanes = new Lanes({ initial: 4, max: 10, now: () => t });
    for (let i = 0; i < 3; i++) lanes.answered(0);
    assert.equal(lanes.limit, 7);
    lanes.answered(120);
    assert.equal(lanes.limit, 7, 'the bucket is the limit: more calls would only queue');
    lanes.throttled();
    assert.equal(lanes.limit, 3);
    for (let i = 0; i < 20; i++) lanes.answered(0);
    assert.equal(lanes.limit, 10);
    assert.equal(lanes.peak, 10);
    t = 1000;
    for (let i = 0; i < 10; i++) lanes.throttled();
    assert.equal(lanes.limit, 5, 'the calls out when the bucket model erred answer THROTTLED together: one halving');
    for (let i = 0; i < 10; i++) {
      t += 1000;
      lanes.throttled();
    }
    assert.equal(lanes.limit, 1);
  });

  it('halves once per second on timeouts and lost connections (a burst of resets is one event)', () => {
    let t = 0;
    const lanes = new Lanes({ initial: 64, max: 128, now: () => t });
    lanes.congested();
    lanes.congested();
    lanes.congested();
    assert.equal(lanes.limit, 32);
    t = 1000;
    lanes.congested();
    assert.equal(lanes.limit, 16);
  });
});

describe('runPool', () => {
  it('starts the first item alone, a turn of the event loop before the others', async () => {
    const events: string[] = [];
    await runPool(
      [1, 2, 3],
      () => 3,
      async (n) => {
        events.push(`start ${n}`);
        await Promise.resolve();
        events.push(`step ${n}`);
      },
    );
    assert.deepEqual(events.slice(0, 3), ['start 1', 'step 1', 'start 2']);
  });

  it('runs every item, never more at once than the limit read before each start', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    let limit = 2;
    await runPool(
      [1, 2, 3, 4, 5, 6],
      () => limit,
      async (n) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (n === 2) limit = 3;
        done.push(n);
        running--;
      },
    );
    assert.deepEqual([...done].sort(), [1, 2, 3, 4, 5, 6]);
    assert.equal(most, 3);
  });

  it('stops starting after a failure, lets the running ones finish, then throws it', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    await assert.rejects(
      runPool(
        [1, 2, 3, 4, 5],
        () => 2,
        async (n) => {
          started.push(n);
          if (n === 2) throw new Error('boom');
          await new Promise((resolve) => setTimeout(resolve, 5));
          finished.push(n);
        },
      ),
      /boom/,
    );
    assert.deepEqual(started, [1, 2]);
    assert.deepEqual(finished, [1]);
  });
});
