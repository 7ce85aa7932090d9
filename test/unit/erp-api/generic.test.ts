import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { renderError } from '../../../src/cli/main.js';
import { errorText, genericRecords, pullApi, sendJson, startServer, type FakeServer, type Handler, type RecordedRequest } from './fake-erp.js';

const servers: FakeServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
});
async function serve(handler: Handler): Promise<FakeServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

const FIELDS = { sku: 'item.code', warehouse: 'location.code', on_hand: 'qty.onHand', reserved: 'qty.reserved' };

/** Offset/limit over `records`, answering `{ data: { items } }`; `override` may answer a given request itself. */
function offsetHandler(records: unknown[], override?: (request: RecordedRequest, response: ServerResponse, n: number) => boolean): Handler {
  let n = 0;
  return (request, response) => {
    n++;
    if (override?.(request, response, n)) return;
    const offset = Number(request.url.searchParams.get('offset'));
    const limit = Number(request.url.searchParams.get('limit'));
    sendJson(response, 200, { data: { items: records.slice(offset, offset + limit) } });
  };
}

function offsetApi(server: FakeServer, extra: Record<string, unknown> = {}) {
  return { url: `${server.url}/items`, recordsPath: 'data.items', fields: FIELDS, pagination: { style: 'offset' }, pageSize: 2, retryDelayMs: 100, ...extra };
}

describe('generic ERP API source: pagination', () => {
  it('offset/limit: walks pages until a short one, mapping nested fields', async () => {
    const server = await serve(offsetHandler(genericRecords(5)));
    const outcome = await pullApi(offsetApi(server));
    assert.equal(outcome.error, undefined, errorText(outcome));
    assert.equal(outcome.result?.rows, 5);
    assert.deepEqual(
      server.requests.map((r) => `${r.url.searchParams.get('offset')}/${r.url.searchParams.get('limit')}`),
      ['0/2', '2/2', '4/2'],
    );
    assert.deepEqual(outcome.rows[0], { sku: 'SKU-0001', warehouse: 'WH-A', on_hand: 10, reserved: 0, incoming: 0, safety_stock: null, category: null });
    assert.deepEqual(outcome.rows[4], { sku: 'SKU-0005', warehouse: 'WH-A', on_hand: 14, reserved: 1, incoming: 0, safety_stock: null, category: null });
    assert.equal(outcome.result?.snapshot.source, `${server.url}/items`);
  });

  it('offset/limit: an exact multiple of the page size ends on an empty last page', async () => {
    const server = await serve(offsetHandler(genericRecords(4)));
    const outcome = await pullApi(offsetApi(server));
    assert.equal(outcome.result?.rows, 4, errorText(outcome));
    assert.deepEqual(
      server.requests.map((r) => r.url.searchParams.get('offset')),
      ['0', '2', '4'],
    );
  });

  it('a single page, and an empty data set (a snapshot with a warning)', async () => {
    const single = await serve(offsetHandler(genericRecords(1)));
    const one = await pullApi(offsetApi(single, { pageSize: 500 }));
    assert.equal(one.result?.rows, 1, errorText(one));
    assert.equal(single.requests.length, 1);

    const none = await serve(offsetHandler([]));
    const empty = await pullApi(offsetApi(none));
    assert.equal(empty.result?.rows, 0, errorText(empty));
    assert.equal(none.requests.length, 1);
    assert.match(empty.result.warnings.join('\n'), /no rows/);
  });

  it('stopAt "empty-page" reads everything from a server that caps the page size', async () => {
    const records = genericRecords(7);
    const server = await serve((request, response) => {
      const offset = Number(request.url.searchParams.get('offset'));
      sendJson(response, 200, { data: { items: records.slice(offset, offset + 3) } }); // asks 5, gets 3
    });
    const outcome = await pullApi(offsetApi(server, { pageSize: 5, stopAt: 'empty-page' }));
    assert.equal(outcome.result?.rows, 7, errorText(outcome));
    assert.deepEqual(
      server.requests.map((r) => r.url.searchParams.get('offset')),
      ['0', '3', '6', '7'],
    );
  });

  it('page numbers, with extra query parameters kept on every page', async () => {
    const records = genericRecords(6);
    const server = await serve((request, response) => {
      const page = Number(request.url.searchParams.get('p'));
      const size = Number(request.url.searchParams.get('size'));
      sendJson(response, 200, records.slice(page * size, page * size + size));
    });
    const outcome = await pullApi({
      url: `${server.url}/stock`,
      query: { status: 'active' },
      fields: FIELDS,
      pagination: { style: 'page', pageParam: 'p', sizeParam: 'size', firstPage: 0 },
      pageSize: 3,
    });
    assert.equal(outcome.result?.rows, 6, errorText(outcome));
    assert.deepEqual(
      server.requests.map((r) => r.url.searchParams.get('p')),
      ['0', '1', '2'],
    );
    assert.ok(server.requests.every((r) => r.url.searchParams.get('status') === 'active'));
  });

  it('a cursor from the body', async () => {
    const records = genericRecords(5);
    const server = await serve((request, response) => {
      const at = Number(request.url.searchParams.get('after') ?? 0);
      const next = at + 2 < records.length ? String(at + 2) : null;
      sendJson(response, 200, { results: records.slice(at, at + 2), meta: { next } });
    });
    const outcome = await pullApi({
      url: `${server.url}/levels`,
      recordsPath: 'results',
      fields: FIELDS,
      pagination: { style: 'cursor', cursorParam: 'after', nextCursorPath: 'meta.next', sizeParam: 'limit' },
      pageSize: 2,
    });
    assert.equal(outcome.result?.rows, 5, errorText(outcome));
    assert.deepEqual(
      server.requests.map((r) => r.url.searchParams.get('after')),
      [null, '2', '4'],
    );
    assert.ok(server.requests.every((r) => r.url.searchParams.get('limit') === '2'));
  });

  it('a cursor that repeats is an error, not an endless loop', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { results: [], meta: { next: 'same' } }));
    const outcome = await pullApi({ url: `${server.url}/levels`, recordsPath: 'results', pagination: { style: 'cursor', nextCursorPath: 'meta.next' } });
    assert.match(errorText(outcome), /page 2: the next page pointer "same" repeats the previous one/);
    assert.equal(outcome.snapshots, 0);
  });

  it('a next link in the body (relative to the page)', async () => {
    const records = genericRecords(3);
    const server = await serve((request, response) => {
      const at = Number(request.url.searchParams.get('from') ?? 0);
      sendJson(response, 200, { rows: records.slice(at, at + 2), links: { next: at + 2 < records.length ? `/v2/levels?from=${at + 2}` : null } });
    });
    const outcome = await pullApi({
      url: `${server.url}/v2/levels`,
      recordsPath: 'rows',
      fields: FIELDS,
      pagination: { style: 'next-link', nextLinkPath: 'links.next' },
    });
    assert.equal(outcome.result?.rows, 3, errorText(outcome));
    assert.equal(server.requests.length, 2);
  });

  it('a next link to another origin is not followed (credentials would go with it)', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { rows: [], next: 'https://elsewhere.example.com/steal' }));
    const outcome = await pullApi({ url: `${server.url}/v2/levels`, recordsPath: 'rows', pagination: { style: 'next-link', nextLinkPath: 'next' } });
    assert.match(errorText(outcome), /page 1: the next page link points to https:\/\/elsewhere\.example\.com, not http:\/\/127\.0\.0\.1/);
    assert.equal(server.requests.length, 1);
  });

  it('the Link header (rel="next")', async () => {
    const records = genericRecords(5);
    const server = await serve((request, response) => {
      const page = Number(request.url.searchParams.get('page') ?? 1);
      const links = [`<${'/inv'}?page=1>; rel="first"`];
      if (page * 2 < records.length) links.push(`<http://127.0.0.1:${request.headers.host!.split(':')[1]}/inv?page=${page + 1}>; rel="next"`);
      sendJson(response, 200, records.slice((page - 1) * 2, page * 2), { link: links.join(', ') });
    });
    const outcome = await pullApi({ url: `${server.url}/inv`, fields: FIELDS, pagination: { style: 'link-header' } });
    assert.equal(outcome.result?.rows, 5, errorText(outcome));
    assert.deepEqual(
      server.requests.map((r) => r.url.searchParams.get('page')),
      [null, '2', '3'],
    );
  });

  it('no pagination: one request; unlisted columns read keys of the same name', async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, [
        { sku: 'A', warehouse: 'WH-A', on_hand: '3', safety_stock: 1, category: 'tees' },
        { sku: 'B', warehouse: 'WH-B', on_hand: 4.0 },
      ]),
    );
    const outcome = await pullApi({ url: `${server.url}/all` });
    assert.equal(outcome.result?.rows, 2, errorText(outcome));
    assert.deepEqual(outcome.rows[0], { sku: 'A', warehouse: 'WH-A', on_hand: 3, reserved: 0, incoming: 0, safety_stock: 1, category: 'tees' });
    assert.equal(server.requests.length, 1);
  });
});

describe('generic ERP API source: bad pages and records', () => {
  it('a malformed record is named by its page and index; no snapshot', async () => {
    const records: Record<string, unknown>[] = genericRecords(5);
    records[3] = { ...records[3], qty: { onHand: 'abc' } };
    const server = await serve(offsetHandler(records));
    const outcome = await pullApi(offsetApi(server));
    assert.ok(outcome.error);
    assert.match(outcome.error.message, /1 bad row; no snapshot written/);
    assert.deepEqual(outcome.error.details, [`${server.url}/items page 2, record 2: on_hand expected a whole number, got "abc"`]);
    assert.equal(outcome.snapshots, 0);
    assert.equal(outcome.rows.length, 0);
  });

  it('a fractional quantity, a record that is not an object, and a duplicate naming its first page', async () => {
    const records: unknown[] = genericRecords(4);
    records[1] = 42;
    records[2] = { ...(records[0] as object) }; // same sku and warehouse as record 1 of page 1
    records[3] = { item: { code: 'X' }, location: { code: 'WH-A' }, qty: { onHand: 12.5 } };
    const server = await serve(offsetHandler(records));
    const outcome = await pullApi(offsetApi(server));
    const text = errorText(outcome);
    assert.match(text, /page 1, record 2: expected an object, found number 42/);
    assert.match(text, /page 2, record 1: duplicate row for sku "SKU-0001" in warehouse "WH-A"; first at page 1, record 1/);
    assert.match(text, /page 2, record 2: on_hand expected a whole number, got 12\.5/);
    assert.equal(outcome.snapshots, 0);
  });

  it('stops reading pages after 50 errors, cancelling the page fetched ahead', async () => {
    const records = genericRecords(5000).map((record) => ({ ...record, qty: { onHand: 'n/a' } }));
    const server = await serve(offsetHandler(records));
    const outcome = await pullApi(offsetApi(server, { pageSize: 100 }));
    assert.match(errorText(outcome), /\(stopped after 50 errors\)/);
    assert.ok(server.requests.length < 50, `read ${server.requests.length} of 50 pages`);
    assert.equal(outcome.snapshots, 0);
  });

  it('a truncated page (invalid JSON) is an error naming the page, and nothing is kept', async () => {
    const server = await serve(
      offsetHandler(genericRecords(6), (request, response) => {
        if (request.url.searchParams.get('offset') !== '2') return false;
        const text = '{"data":{"items":[{"item":{"code":"SKU-0003"},"loca';
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length }).end(text);
        return true;
      }),
    );
    const outcome = await pullApi(offsetApi(server));
    assert.match(errorText(outcome), new RegExp(`${server.url}/items page 2: the page is not valid JSON \\(truncated\\?\\)`));
    assert.equal(outcome.error?.kind, 'source');
    assert.equal(outcome.snapshots, 0);
  });

  it('a body cut off mid-transfer is retried, then reported with its page', async () => {
    const server = await serve(
      offsetHandler(genericRecords(6), (request, response) => {
        if (request.url.searchParams.get('offset') !== '2') return false;
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': 5000 });
        response.write('{"data":{"items":[');
        setTimeout(() => response.destroy(), 10);
        return true;
      }),
    );
    const outcome = await pullApi(offsetApi(server, { retries: 1 }));
    assert.match(errorText(outcome), /items page 2: connection failed \(.+\); gave up after 2 attempts/);
    assert.equal(outcome.sleeps.length, 1);
    assert.equal(outcome.snapshots, 0);
  });

  it('a page without the records array names the page and the path', async () => {
    const server = await serve(
      offsetHandler(genericRecords(6), (request, response) => {
        if (request.url.searchParams.get('offset') !== '4') return false;
        sendJson(response, 200, { data: { error: 'maintenance' } });
        return true;
      }),
    );
    const outcome = await pullApi(offsetApi(server));
    assert.match(errorText(outcome), /items page 3: expected an array of records at "data\.items", found nothing \(missing\)/);
    assert.equal(outcome.snapshots, 0);
  });

  it('a 401 is not retried and hints at the credentials; a redirect is not followed', async () => {
    const denied = await serve((_request, response) => sendJson(response, 401, { error: 'bad token' }));
    const outcome = await pullApi(offsetApi(denied));
    assert.match(errorText(outcome), /items page 1: HTTP 401 Unauthorized \(check the API credentials and their permissions\): \{"error":"bad token"\}/);
    assert.equal(denied.requests.length, 1);

    const moved = await serve((_request, response) => {
      response.writeHead(301, { location: 'https://erp.example.com/items' }).end();
    });
    const redirected = await pullApi(offsetApi(moved));
    assert.match(errorText(redirected), /HTTP 301 Moved Permanently redirect to https:\/\/erp\.example\.com\/items; not followed/);
  });
});

describe('generic ERP API source: retries', () => {
  it('a 429 waits what Retry-After says (seconds), then goes on', async () => {
    const server = await serve(
      offsetHandler(genericRecords(3), (_request, response, n) => {
        if (n !== 2) return false;
        sendJson(response, 429, { error: 'slow down' }, { 'retry-after': '3' });
        return true;
      }),
    );
    const outcome = await pullApi(offsetApi(server));
    assert.equal(outcome.result?.rows, 3, errorText(outcome));
    assert.deepEqual(outcome.sleeps, [3000]);
    assert.match(outcome.logs[0]!, /items page 2: HTTP 429 Too Many Requests: \{"error":"slow down"\}; retry 1\/5 in 3\.0 s/);
    assert.deepEqual(
      server.requests.map((r) => r.url.searchParams.get('offset')),
      ['0', '2', '2'],
    );
  });

  it('a 429 with an HTTP-date Retry-After waits until then, capped by maxRetryDelayMs', async () => {
    const server = await serve(
      offsetHandler(genericRecords(1), (_request, response, n) => {
        if (n !== 1) return false;
        sendJson(response, 429, {}, { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() });
        return true;
      }),
    );
    const outcome = await pullApi(offsetApi(server, { maxRetryDelayMs: 5000 }));
    assert.equal(outcome.result?.rows, 1, errorText(outcome));
    assert.deepEqual(outcome.sleeps, [5000]);
  });

  it('a 5xx then success backs off with jitter; persistent 5xx gives up naming the page', async () => {
    const flaky = await serve(
      offsetHandler(genericRecords(2), (_request, response, n) => {
        if (n !== 1) return false;
        sendJson(response, 503, { error: 'down' });
        return true;
      }),
    );
    const ok = await pullApi(offsetApi(flaky, { pageSize: 5 }));
    assert.equal(ok.result?.rows, 2, errorText(ok));
    assert.equal(ok.sleeps.length, 1);
    assert.ok(ok.sleeps[0]! >= 50 && ok.sleeps[0]! <= 100, `first backoff in [base/2, base], got ${ok.sleeps[0]}`);

    const down = await serve((_request, response) => sendJson(response, 502, { error: 'bad gateway' }));
    const failed = await pullApi(offsetApi(down, { retries: 3 }));
    assert.match(errorText(failed), /items page 1: HTTP 502 Bad Gateway: \{"error":"bad gateway"\}; gave up after 4 attempts/);
    assert.equal(down.requests.length, 4);
    assert.equal(failed.sleeps.length, 3);
    assert.ok(failed.sleeps[2]! >= 200 && failed.sleeps[2]! <= 400, `third backoff doubled twice, got ${failed.sleeps[2]}`);
    assert.equal(failed.snapshots, 0);
  });

  it('a request that times out is retried', async () => {
    const server = await serve(
      offsetHandler(genericRecords(1), (_request, response, n) => {
        if (n !== 1) return false;
        setTimeout(() => sendJson(response, 200, { data: { items: [] } }), 2000).unref();
        return true;
      }),
    );
    const outcome = await pullApi(offsetApi(server, { timeoutMs: 100 }));
    assert.equal(outcome.result?.rows, 1, errorText(outcome));
    assert.match(outcome.logs[0]!, /no complete answer within 100 ms \(timeout\); retry 1\/5/);
  });
});

describe('generic ERP API source: secrets', () => {
  it('sends secrets from the environment and never prints them, even when the server echoes them', async () => {
    const server = await serve((request, response) =>
      sendJson(response, 400, { error: 'rejected', got: { key: request.headers['x-api-key'], auth: request.headers.authorization } }),
    );
    const env = { ERP_TOKEN: 'tok-5ecret-bearer', ERP_HEADER_KEY: 'hdr-5ecret-value' };
    const outcome = await pullApi({ url: `${server.url}/items`, apiKeyEnv: 'ERP_TOKEN', headersFromEnv: { 'X-Api-Key': 'ERP_HEADER_KEY' } }, env);
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer tok-5ecret-bearer');
    assert.equal(server.requests[0]!.headers['x-api-key'], 'hdr-5ecret-value');
    const printed = renderError(outcome.error);
    assert.match(printed, /HTTP 400 Bad Request/);
    assert.match(printed, /\[redacted\]/);
    assert.doesNotMatch(printed, /5ecret/);
  });

  it('key and secret make HTTP Basic, and its encoded form is redacted too', async () => {
    const server = await serve((request, response) => sendJson(response, 403, { echo: request.headers.authorization }));
    const outcome = await pullApi({ url: `${server.url}/items`, apiKeyEnv: 'K', apiSecretEnv: 'S' }, { K: 'basic-user', S: 'basic-5ecret' });
    const encoded = Buffer.from('basic-user:basic-5ecret').toString('base64');
    assert.equal(server.requests[0]!.headers.authorization, `Basic ${encoded}`);
    assert.doesNotMatch(renderError(outcome.error), new RegExp(`${encoded}|5ecret`));
  });

  it('a missing environment variable is a config error naming the key and the variable, before any request', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, []));
    const outcome = await pullApi({ url: `${server.url}/items`, headersFromEnv: { 'X-Api-Key': 'ERP_MISSING_KEY' } }, {});
    assert.equal(outcome.error?.kind, 'input');
    assert.match(
      outcome.error.message,
      /\/cfg\/invrecon\.config\.json: erp\.api\.headersFromEnv\["X-Api-Key"\]: environment variable ERP_MISSING_KEY is not set/,
    );
    assert.equal(server.requests.length, 0);
  });
});
