import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bulkSeconds, pagedItemLimit, pagedSeconds } from '../../../src/sources/shopify/pull-mode.js';

const standard = { maximumAvailable: 2000, currentlyAvailable: 2000, restoreRate: 100 };
const plus = { maximumAvailable: 20_000, currentlyAvailable: 20_000, restoreRate: 1000 };

describe('pull shopify: paged or bulk by expected time', () => {
  it('3,000 items at 4 locations on a Standard bucket go bulk (paged would wait ~7 minutes for points)', () => {
    const input = { locations: 4, bucket: standard, latencyMs: 200 };
    assert.ok(pagedSeconds(3000, input) > 400);
    assert.ok(bulkSeconds(3000, 4) < 5);
    assert.ok(pagedItemLimit(input, 5000) < 3000);
  });

  it('a small shop reads paged: the full bucket holds it', () => {
    const input = { locations: 3, bucket: standard, latencyMs: 200 };
    assert.ok(pagedItemLimit(input, 5000) >= 9);
    // Up to about what the bucket holds (2,000 points ÷ 12 per item), plus what refills while bulk would run.
    const limit = pagedItemLimit(input, 5000);
    assert.ok(limit > 150 && limit < 250, String(limit));
  });

  it('a larger bucket and a faster refill allow more paged, never above the cap', () => {
    assert.ok(
      pagedItemLimit({ locations: 4, bucket: plus, latencyMs: 200 }, 100_000) > pagedItemLimit({ locations: 4, bucket: standard, latencyMs: 200 }, 100_000),
    );
    assert.equal(pagedItemLimit({ locations: 1, bucket: plus, latencyMs: 1 }, 50), 50);
  });

  it('without a known bucket, the cap decides', () => {
    assert.equal(pagedItemLimit({ locations: 4, bucket: undefined, latencyMs: 100 }, 5000), 5000);
  });
});
