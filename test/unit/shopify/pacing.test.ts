import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHost, resolveEndpoint } from '../../../src/sources/shopify/endpoint.js';
import { CostBucket, backoffMs, refillWaitMs, retryAfterMs } from '../../../src/sources/shopify/pacing.js';

describe('CostBucket', () => {
  it('knows nothing before the first answer, so nothing to wait for', () => {
    const bucket = new CostBucket(() => 0);
    assert.equal(bucket.available(), undefined);
    assert.equal(bucket.waitFor(500), 0);
  });

  it('extrapolates the refill since the last answer, capped at the maximum', () => {
    let t = 0;
    const bucket = new CostBucket(() => t, 0);
    bucket.observe({ maximumAvailable: 100, currentlyAvailable: 20, restoreRate: 10 });
    t = 3000;
    assert.equal(bucket.available(), 50);
    t = 60_000;
    assert.equal(bucket.available(), 100);
  });

  it('waits exactly for the missing points, and never for more than a full bucket', () => {
    const t = 0;
    const bucket = new CostBucket(() => t, 0);
    bucket.observe({ maximumAvailable: 100, currentlyAvailable: 20, restoreRate: 10 });
    assert.equal(bucket.waitFor(20), 0);
    assert.equal(bucket.waitFor(45), 2500);
    assert.equal(bucket.waitFor(500), 8000, 'a cost above the maximum waits for a full bucket only');
  });

  it('asks for a little slack on top, as the status is slightly old when it arrives', () => {
    const t = 0;
    const bucket = new CostBucket(() => t, 50);
    bucket.observe({ maximumAvailable: 100, currentlyAvailable: 20, restoreRate: 10 });
    assert.equal(bucket.waitFor(20), 50);
    assert.equal(bucket.waitFor(19), 0);
    assert.equal(bucket.waitFor(500), 8000, 'never more than a full bucket');
  });

  it('reserves points for calls in flight', () => {
    const t = 0;
    const bucket = new CostBucket(() => t, 0);
    bucket.observe({ maximumAvailable: 100, currentlyAvailable: 100, restoreRate: 10 });
    bucket.reserve(80);
    assert.equal(bucket.waitFor(50), 3000);
  });

  it('does not count calls in flight twice: the server counted them when they arrived', () => {
    const t = 0;
    const bucket = new CostBucket(() => t, 0);
    bucket.observe({ maximumAvailable: 2000, currentlyAvailable: 2000, restoreRate: 100 });
    for (let i = 0; i < 200; i++) bucket.reserve(10);
    // One call answers: the server took all 200 (0 left); 199 are still out. 0 - 1990 would stall the pacer for 20 s.
    bucket.answered({ maximumAvailable: 2000, currentlyAvailable: 0, restoreRate: 100 }, 1990, 500);
    assert.equal(bucket.available(), 0);
  });

  it('takes a status that shows less than the model allows (another app spends), less the calls that may not have arrived', () => {
    const t = 0;
    const bucket = new CostBucket(() => t, 0);
    bucket.observe({ maximumAvailable: 2000, currentlyAvailable: 1000, restoreRate: 100 });
    bucket.reserve(100);
    bucket.answered({ maximumAvailable: 2000, currentlyAvailable: 400, restoreRate: 100 }, 50, 500);
    assert.equal(bucket.available(), 350);
  });

  it('takes a status that shows more even with every call out taken off, and gives back what a call was not charged', () => {
    const t = 0;
    const bucket = new CostBucket(() => t, 0);
    bucket.observe({ maximumAvailable: 2000, currentlyAvailable: 100, restoreRate: 100 });
    bucket.answered({ maximumAvailable: 2000, currentlyAvailable: 600, restoreRate: 100 }, 200, 500);
    assert.equal(bucket.available(), 400);
    bucket.reserve(50);
    bucket.refund(30);
    assert.equal(bucket.available(), 380);
  });
});

describe('backoff', () => {
  it('doubles the ceiling per retry up to the cap, with equal jitter (half fixed, half random)', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10, 20].map((r) => backoffMs(r, () => 1, 250, 5000)),
      [250, 500, 1000, 2000, 5000, 5000],
    );
    assert.equal(
      backoffMs(3, () => 0, 250, 5000),
      500,
    );
    assert.equal(
      backoffMs(3, () => 0.25, 250, 5000),
      625,
    );
  });

  it('computes the refill a THROTTLED status implies', () => {
    assert.equal(refillWaitMs({ maximumAvailable: 1000, currentlyAvailable: 100, restoreRate: 50 }, 600), 10_000);
    assert.equal(refillWaitMs({ maximumAvailable: 1000, currentlyAvailable: 700, restoreRate: 50 }, 600), 0);
    assert.equal(refillWaitMs(undefined, 600), undefined);
  });

  it('reads Retry-After as seconds or a date', () => {
    assert.equal(retryAfterMs('2', 0), 2000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(retryAfterMs('soon', 0), undefined);
    assert.equal(retryAfterMs(null, 0), undefined);
  });
});

describe('endpoint', () => {
  it('treats 127.0.0.0/8, localhost and [::1] as loopback, nothing else', () => {
    for (const host of ['127.0.0.1', '127.255.0.9', 'localhost', 'LOCALHOST', '[::1]']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['128.0.0.1', '10.0.0.1', 'localhost.example.com', '127.0.0.1.nip.io', '[::2]', '0.0.0.0']) assert.ok(!isLoopbackHost(host), host);
  });

  it('appends the API path to the override as it is', () => {
    assert.equal(
      resolveEndpoint('acme.myshopify.com', '2026-10', { INVRECON_SHOPIFY_ENDPOINT: 'http://127.0.0.1:43121/' }).graphqlUrl,
      'http://127.0.0.1:43121/admin/api/2026-10/graphql.json',
    );
    assert.equal(
      resolveEndpoint('acme.myshopify.com', '2026-10', { INVRECON_SHOPIFY_ENDPOINT: 'https://proxy.internal/shop-a' }).graphqlUrl,
      'https://proxy.internal/shop-a/admin/api/2026-10/graphql.json',
    );
    assert.deepEqual(resolveEndpoint('acme.myshopify.com', '2026-10', {}), {
      graphqlUrl: 'https://acme.myshopify.com/admin/api/2026-10/graphql.json',
      overridden: false,
    });
  });
});
