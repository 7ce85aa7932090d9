import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, SourceError } from '../../../src/errors.js';
import { createShopifyClient, ShopifyGraphQLError, type CallEvent, type ShopifyClientOptions } from '../../../src/sources/shopify/client.js';
import { INVENTORY_SET_QUANTITIES, LOCATIONS_PAGE } from '../../../src/sources/shopify/documents.js';
import { TEST_TOKEN as TOKEN } from '../../helpers/cli.js';
import { FakeClock, cost, hang, networkError, ok, scriptedFetch, status, testConfig, throttled, type Reply } from './scripted-fetch.js';

const env = { SHOPIFY_ADMIN_TOKEN: TOKEN, INVRECON_SHOPIFY_ENDPOINT: 'http://127.0.0.1:43121' };
const bucket = (currentlyAvailable: number, maximumAvailable = 1000, restoreRate = 100) => ({ maximumAvailable, currentlyAvailable, restoreRate });

function setup(replies: Reply[], options: ShopifyClientOptions = {}) {
  const clock = new FakeClock();
  const { fetch, sent } = scriptedFetch(replies);
  const events: CallEvent[] = [];
  const client = createShopifyClient(testConfig(), {
    env,
    fetch,
    sleep: clock.sleep,
    now: clock.now,
    random: () => 1, // full jitter at its ceiling, so waits are predictable
    onCall: (event) => events.push(event),
    ...options,
  });
  return { client, clock, sent, events };
}

describe('Shopify client: endpoint and token', () => {
  it('posts to INVRECON_SHOPIFY_ENDPOINT with the configured API version and the token header', async () => {
    const { client, sent } = setup([ok({ locations: { edges: [] } })]);
    const result = await client.request(LOCATIONS_PAGE, { first: 5 });
    assert.deepEqual(result.data, { locations: { edges: [] } });
    assert.equal(sent[0]!.url, 'http://127.0.0.1:43121/admin/api/2026-10/graphql.json');
    assert.equal(sent[0]!.headers['x-shopify-access-token'], TOKEN);
    assert.deepEqual(sent[0]!.body.variables, { first: 5 });
  });

  it('goes to https://{shop} without the override, and uses shopify.apiVersion', async () => {
    const { fetch, sent } = scriptedFetch([ok({ x: 1 })]);
    const client = createShopifyClient(testConfig({ apiVersion: '2026-07' }), { env: { SHOPIFY_ADMIN_TOKEN: TOKEN }, fetch });
    await client.request('query Q { shop { id } }');
    assert.equal(sent[0]!.url, 'https://acme.myshopify.com/admin/api/2026-07/graphql.json');
  });

  it('accepts plain http for loopback hosts only', () => {
    for (const url of ['http://127.0.0.1:1', 'http://127.9.8.7', 'http://localhost:8080/', 'http://[::1]:3000', 'https://proxy.example.com']) {
      createShopifyClient(testConfig(), { env: { ...env, INVRECON_SHOPIFY_ENDPOINT: url } });
    }
    for (const url of ['http://10.0.0.1:8080', 'http://example.com', 'http://128.0.0.1', 'ftp://127.0.0.1']) {
      assert.throws(
        () => createShopifyClient(testConfig(), { env: { ...env, INVRECON_SHOPIFY_ENDPOINT: url } }),
        (error: unknown) => error instanceof InputError && /INVRECON_SHOPIFY_ENDPOINT/.test(error.message),
        url,
      );
    }
  });

  it('refuses to start without SHOPIFY_ADMIN_TOKEN', () => {
    assert.throws(
      () => createShopifyClient(testConfig(), { env: { INVRECON_SHOPIFY_ENDPOINT: 'http://127.0.0.1:1' } }),
      (error: unknown) => error instanceof InputError && /SHOPIFY_ADMIN_TOKEN is not set/.test(error.message),
    );
  });

  it('never puts the token in an error, even when the server echoes it', async () => {
    const { client } = setup([status(400, `bad request for token ${TOKEN}`)]);
    await assert.rejects(client.request(LOCATIONS_PAGE, { first: 1 }), (error: unknown) => {
      assert.ok(error instanceof SourceError);
      assert.doesNotMatch(error.message, new RegExp(TOKEN));
      assert.match(error.message, /HTTP 400/);
      return true;
    });
  });

  it('names the token variable (not its value) on 401', async () => {
    const { client, events } = setup([status(401, 'Invalid API key or access token')]);
    await assert.rejects(client.request(LOCATIONS_PAGE, { first: 1 }), /HTTP 401: the access token was refused; check SHOPIFY_ADMIN_TOKEN/);
    assert.equal(events.length, 1, '401 is not retried');
  });
});

describe('Shopify client: pacing from throttleStatus', () => {
  it('waits before a call until the bucket model holds the last requested cost of that operation', async () => {
    const { client, clock, events } = setup([ok({ a: 1 }, cost(50, bucket(10, 100, 10))), ok({ a: 2 }, cost(50, bucket(0, 100, 10)))]);
    await client.request(LOCATIONS_PAGE, { first: 1 });
    assert.deepEqual(clock.sleeps, [], 'the first call has nothing to wait for');
    await client.request(LOCATIONS_PAGE, { first: 1 });
    // 10 available, 50 needed, 10 points/s: 4 s of refill (+50 ms slack), no THROTTLED answer needed to learn it.
    assert.deepEqual(clock.sleeps, [4050]);
    assert.equal(events[1]!.waitedMs, 4050);
    assert.equal(client.counters.throttledWaits, 1);
    assert.equal(client.counters.throttled, 0);
  });

  it('counts the refill since the last answer and does not wait when it is enough', async () => {
    const { client, clock } = setup([ok({ a: 1 }, cost(50, bucket(10, 100, 10))), ok({ a: 2 }, cost(50, bucket(0, 100, 10)))]);
    await client.request(LOCATIONS_PAGE, { first: 1 });
    clock.t += 5100; // 51 points refilled meanwhile
    await client.request(LOCATIONS_PAGE, { first: 1 });
    assert.deepEqual(clock.sleeps, []);
  });

  it('learns the bucket from error answers too (MAX_COST_EXCEEDED carries it)', async () => {
    const tooCostly = Response.json({
      errors: [
        {
          message: 'Query cost is 252, which exceeds the single query max cost limit (50).',
          extensions: { code: 'MAX_COST_EXCEEDED', cost: 252, maxCost: 50 },
        },
      ],
      extensions: { cost: { requestedQueryCost: 252, actualQueryCost: null, throttleStatus: bucket(5, 50, 10) } },
    });
    const { client, clock } = setup([tooCostly, ok({ a: 1 }, cost(45, bucket(0, 50, 10)))]);
    await assert.rejects(
      client.request(LOCATIONS_PAGE, { first: 250 }),
      (error: unknown) => error instanceof ShopifyGraphQLError && error.codes.includes('MAX_COST_EXCEEDED'),
    );
    await client.request(LOCATIONS_PAGE, { first: 43 }, { expectedCost: 45 });
    assert.deepEqual(clock.sleeps, [4050], '5 points known to be there, 45 needed at 10/s');
  });

  it('uses the caller estimate for an operation it has not seen', async () => {
    const { client, clock } = setup([ok({ a: 1 }, cost(1, bucket(20, 100, 10))), ok({ b: 1 }, cost(80, bucket(0, 100, 10)))]);
    await client.request(LOCATIONS_PAGE, { first: 1 });
    await client.request('query Other { shop { id } }', undefined, { expectedCost: 80 });
    assert.deepEqual(clock.sleeps, [6050]);
  });

  it('queues concurrent callers: the second waits for what the first reserved', async () => {
    const { client, clock } = setup([
      ok({ a: 0 }, cost(40, bucket(60, 100, 10))),
      ok({ a: 1 }, cost(40, bucket(20, 100, 10))),
      ok({ a: 2 }, cost(40, bucket(0, 100, 10))),
    ]);
    await client.request(LOCATIONS_PAGE, { first: 1 });
    // 60 in the bucket: the first concurrent call takes 40, the second waits 2 s (+ slack) for the 20 it lacks.
    await Promise.all([client.request(LOCATIONS_PAGE, { first: 1 }), client.request(LOCATIONS_PAGE, { first: 1 })]);
    assert.deepEqual(clock.sleeps, [2050]);
  });
});

describe('Shopify client: retries', () => {
  it('retries THROTTLED after the refill the status implies, plus jitter', async () => {
    const { client, clock, events } = setup([throttled(200, bucket(50, 1000, 100)), ok({ a: 1 }, cost(200, bucket(800, 1000, 100)))]);
    const result = await client.request(LOCATIONS_PAGE, { first: 50 });
    assert.equal(result.attempts, 2);
    assert.deepEqual(
      events.map((e) => e.outcome),
      ['throttled', 'ok'],
    );
    // 250 ms of jitter (random = 1, first retry), then the clock's model needs 150 more points at 100/s.
    const waited = clock.sleeps.reduce((a, b) => a + b, 0);
    assert.ok(waited >= 1500, `waited ${waited} ms, at least the 1.5 s refill`);
    assert.equal(client.counters.throttled, 1);
    assert.equal(client.counters.retries, 1);
  });

  it('fails at once when a query costs more than the bucket can ever hold', async () => {
    const { client, events } = setup([throttled(120, bucket(50, 50, 10))]);
    await assert.rejects(
      client.request(LOCATIONS_PAGE, { first: 50 }),
      (error: unknown) => error instanceof ShopifyGraphQLError && error.codes.includes('MAX_COST_EXCEEDED'),
    );
    assert.equal(events.length, 1);
  });

  it('retries 5xx with exponential backoff and full jitter', async () => {
    const { client, clock, events } = setup([status(502), status(503), status(500), ok({ a: 1 })]);
    await client.request(LOCATIONS_PAGE, { first: 1 });
    assert.deepEqual(clock.sleeps, [250, 500, 1000]);
    assert.deepEqual(
      events.map((e) => [e.outcome, e.status]),
      [
        ['http-5xx', 502],
        ['http-5xx', 503],
        ['http-5xx', 500],
        ['ok', 200],
      ],
    );
    assert.equal(client.counters.calls, 4);
    assert.equal(client.counters.retries, 3);
  });

  it('draws the jitter uniformly in the upper half of the ceiling', async () => {
    const { client, clock } = setup([status(500), status(500), ok({ a: 1 })], { random: () => 0.5 });
    await client.request(LOCATIONS_PAGE, { first: 1 });
    assert.deepEqual(clock.sleeps, [188, 375]);
  });

  it('honours Retry-After on 429', async () => {
    const { client, clock, events } = setup([status(429, 'slow down', { 'Retry-After': '3' }), ok({ a: 1 })]);
    await client.request(LOCATIONS_PAGE, { first: 1 });
    assert.deepEqual(clock.sleeps, [3000]);
    assert.equal(events[0]!.outcome, 'http-429');
  });

  it('retries network errors and names the cause', async () => {
    const { client, events } = setup([networkError('ECONNRESET'), ok({ a: 1 })]);
    await client.request(LOCATIONS_PAGE, { first: 1 });
    assert.equal(events[0]!.outcome, 'network');
    assert.match(events[0]!.message!, /ECONNRESET/);
  });

  it('times out a call that does not answer, then retries it', async () => {
    const { client, events } = setup([hang(), ok({ a: 1 })], { timeoutMs: 20 });
    const result = await client.request(LOCATIONS_PAGE, { first: 1 });
    assert.equal(result.attempts, 2);
    assert.equal(events[0]!.outcome, 'timeout');
  });

  it('gives up after maxRetries with a SourceError naming the operation, the URL and the last cause', async () => {
    const { client, events } = setup([status(500), status(500), status(503)], { maxRetries: 2 });
    await assert.rejects(client.request(LOCATIONS_PAGE, { first: 1 }), (error: unknown) => {
      assert.ok(error instanceof SourceError);
      assert.match(error.message, /LocationsPage at http:\/\/\S+\/graphql\.json: gave up after 3 tries; last cause: HTTP 503/);
      return true;
    });
    assert.equal(events.length, 3);
  });

  it('does not retry GraphQL errors other than THROTTLED', async () => {
    const { client, events } = setup([
      Response.json({ errors: [{ message: "Field 'skuu' doesn't exist on type 'InventoryItem'", extensions: { code: 'undefinedField' } }] }),
    ]);
    await assert.rejects(client.request(LOCATIONS_PAGE, { first: 1 }), (error: unknown) => {
      assert.ok(error instanceof ShopifyGraphQLError);
      assert.match(error.message, /Shopify LocationsPage: Field 'skuu' doesn't exist/);
      assert.deepEqual(error.codes, ['undefinedField']);
      return true;
    });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.outcome, 'error');
  });

  it('retries a mutation with the same document and variables, so the same idempotency key', async () => {
    const variables = {
      idempotencyKey: 'plan-abc-batch-1',
      referenceDocumentUri: 'invrecon://plan/abc',
      quantities: [{ inventoryItemId: 'gid://shopify/InventoryItem/1', locationId: 'gid://shopify/Location/1', quantity: 5, changeFromQuantity: 3 }],
    };
    const { client, sent } = setup([status(503), networkError(), ok({ inventorySetQuantities: { inventoryAdjustmentGroup: null, userErrors: [] } })]);
    const result = await client.request(INVENTORY_SET_QUANTITIES, variables);
    assert.equal(result.attempts, 3);
    assert.equal(sent.length, 3);
    for (const request of sent) assert.deepEqual(request.body, sent[0]!.body);
    assert.equal(sent[0]!.body.variables!.idempotencyKey, 'plan-abc-batch-1');
  });

  it('says when an earlier attempt may have run (its answer lost), and when none can have', async () => {
    const lost = setup([status(503), ok({ a: 1 })]);
    assert.equal((await lost.client.request(LOCATIONS_PAGE, { first: 1 })).uncertain, true);
    const refused = setup([networkError('ECONNREFUSED'), ok({ a: 1 })]);
    assert.equal((await refused.client.request(LOCATIONS_PAGE, { first: 1 })).uncertain, false);
  });

  it('gives a dead endpoint a short retry budget, tells each wait over a second, and names the URL', async () => {
    const notices: string[] = [];
    const { client, sent } = setup(
      Array.from({ length: 9 }, () => networkError('ECONNREFUSED')),
      { notice: (m) => void notices.push(m), backoffBaseMs: 1000 },
    );
    await assert.rejects(client.request(LOCATIONS_PAGE, { first: 1 }), (error: unknown) => {
      assert.ok(error instanceof SourceError);
      assert.match(
        error.message,
        /LocationsPage at http:\/\/127\.0\.0\.1:43121\/admin\/api\/2026-10\/graphql\.json: gave up after 3 tries; last cause: .*ECONNREFUSED/,
      );
      return true;
    });
    assert.equal(sent.length, 3, 'connection refused: 2 retries, not 8');
    assert.equal(notices.length, 2);
    assert.match(notices[0]!, /ECONNREFUSED; retry 1\/8 in 1\.0 s/);
  });

  it('reports cost, attempts and events for auditing', async () => {
    const { client, events } = setup([ok({ a: 1 }, cost(12, bucket(988), 7))]);
    const result = await client.request(LOCATIONS_PAGE, { first: 1 });
    assert.deepEqual(result.cost, { requested: 12, actual: 7, throttleStatus: bucket(988) });
    assert.deepEqual(
      { operation: events[0]!.operation, outcome: events[0]!.outcome, requestedCost: events[0]!.requestedCost, actualCost: events[0]!.actualCost },
      { operation: 'LocationsPage', outcome: 'ok', requestedCost: 12, actualCost: 7 },
    );
    assert.deepEqual(client.throttleStatus(), bucket(988));
  });
});

describe('Shopify client: bulk result download', () => {
  it('fetches without the token, retrying 5xx', async () => {
    const { client, sent } = setup([status(503), new Response('{"id":"x"}\n')]);
    const response = await client.download('http://127.0.0.1:43121/_bulk/1.jsonl');
    assert.equal(await response.text(), '{"id":"x"}\n');
    assert.equal(sent.length, 2);
    assert.equal(sent[1]!.headers['x-shopify-access-token'], undefined);
  });

  it('refuses a plain http URL off loopback', async () => {
    const { client, sent } = setup([]);
    await assert.rejects(client.download('http://storage.example.com/result.jsonl'), /plain http is only allowed for loopback hosts/);
    assert.equal(sent.length, 0);
  });
});

describe('Shopify client: what must be in place before a call goes', () => {
  it('asks beforeAttempt once each attempt is paced, retries included; a refusal fails the request with nothing sent', async () => {
    const { client, clock, sent } = setup([ok({ x: 1 }, cost(10, bucket(0))), status(503), ok({ x: 2 })]);
    await client.request('query Q { shop { id } }');
    const asked: number[] = [];
    const result = await client.request('query Q { shop { id } }', undefined, {
      beforeAttempt: () => void asked.push(clock.now()),
      onSent: () => asked.push(-clock.now()),
    });
    assert.deepEqual(result.data, { x: 2 });
    assert.equal(asked.length, 4, 'two attempts, each asked and then sent');
    assert.ok(clock.sleeps[0]! > 0 && asked[0]! >= 1_000_000 + clock.sleeps[0]!, 'asked after the wait for the bucket, not before it');
    await assert.rejects(client.request('query Q { shop { id } }', undefined, { beforeAttempt: () => Promise.reject(new SourceError('not now')) }), /not now/);
    assert.equal(sent.length, 3);
  });
});
