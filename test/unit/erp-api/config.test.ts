import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../../../src/config/load.js';
import { InputError } from '../../../src/errors.js';
import { backoffDelay, parseRetryAfter } from '../../../src/sources/erp/api/index.js';
import { nextFromLinkHeader, PageIndex, getPath } from '../../../src/sources/erp/api/support.js';

function configWith(api: Record<string, unknown>, csv = false) {
  return resolveConfig(
    {
      shopify: { shop: 'acme.myshopify.com' },
      erp: { api, ...(csv ? { csv: { path: 'erp.csv' } } : {}) },
      locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main' }],
    },
    '/cfg/invrecon.config.json',
  );
}

function errorOf(api: Record<string, unknown>): string {
  try {
    configWith(api);
  } catch (error) {
    assert.ok(error instanceof InputError);
    return [error.message, ...error.details].join('\n');
  }
  assert.fail('expected an InputError');
}

describe('erp.api config', () => {
  it('takes the public preset examples as they are, with defaults filled in', () => {
    const erpnext = configWith({ preset: 'erpnext', url: 'https://erp.example.com', apiKeyEnv: 'ERPNEXT_API_KEY', apiSecretEnv: 'ERPNEXT_API_SECRET' });
    assert.equal(erpnext.erp.api?.pageSize, 500);
    assert.equal(erpnext.erp.api?.retries, 5);
    const odoo = configWith({ preset: 'odoo', url: 'https://acme.odoo.com', database: 'acme', apiKeyEnv: 'ODOO_API_KEY' });
    assert.equal(odoo.erp.api?.preset, 'odoo');
    const generic = configWith({ url: 'https://erp.example.com/api/stock', pagination: { style: 'offset' } });
    assert.deepEqual(generic.erp.api?.pagination, { style: 'offset', offsetParam: 'offset', limitParam: 'limit' });
  });

  it('accepts plain http only for loopback addresses', () => {
    for (const url of ['http://127.0.0.1:8080/x', 'http://localhost:3000', 'http://[::1]:9000/']) assert.equal(configWith({ url }).erp.api?.url, url);
    assert.match(errorOf({ url: 'http://erp.example.com/api' }), /erp\.api\.url: plain http:\/\/ is accepted for loopback addresses only/);
    assert.match(errorOf({ url: 'ftp://erp.example.com/api' }), /erp\.api\.url: expected an http\(s\) URL/);
  });

  it('names what each preset needs', () => {
    assert.match(errorOf({ preset: 'erpnext', url: 'https://erp.example.com', apiKeyEnv: 'K' }), /erp\.api\.apiSecretEnv: required for the erpnext preset/);
    assert.match(errorOf({ preset: 'odoo', url: 'https://acme.odoo.com', apiKeyEnv: 'K' }), /erp\.api\.database: required for the odoo preset/);
    assert.match(
      errorOf({ preset: 'odoo', url: 'https://acme.odoo.com', apiKeyEnv: 'K', database: 'd', recordsPath: 'data' }),
      /erp\.api\.recordsPath: only for the generic preset; the odoo preset sets it itself/,
    );
  });

  it('refuses secrets in plain headers and values that are not variable names', () => {
    assert.match(
      errorOf({ url: 'https://x.example.com', headers: { Authorization: 'Bearer abc' } }),
      /erp\.api\.headers\.Authorization: looks like a secret; name its environment variable in headersFromEnv/,
    );
    assert.match(errorOf({ url: 'https://x.example.com', apiKeyEnv: 'not a var' }), /erp\.api\.apiKeyEnv: expected the name of an environment variable/);
    assert.match(
      errorOf({ url: 'https://x.example.com', pagination: { style: 'scroll' } }),
      /erp\.api\.pagination\.style|erp\.api\.pagination: expected a pagination style/,
    );
  });
});

describe('erp api helpers', () => {
  it('Retry-After: seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('7'), 7000);
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    assert.equal(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });

  it('backoff doubles, jitters within the upper half, and is capped', () => {
    assert.equal(
      backoffDelay(0, 500, 60_000, () => 0),
      250,
    );
    assert.equal(
      backoffDelay(0, 500, 60_000, () => 1),
      500,
    );
    assert.equal(
      backoffDelay(3, 500, 60_000, () => 1),
      4000,
    );
    assert.equal(
      backoffDelay(20, 500, 60_000, () => 1),
      60_000,
    );
  });

  it('Link header, dot paths and page index', () => {
    const base = new URL('https://erp.example.com/items?page=1');
    assert.equal(
      nextFromLinkHeader('<https://erp.example.com/items?page=2>; rel="next", <https://erp.example.com/items?page=9>; rel="last"', base)?.href,
      'https://erp.example.com/items?page=2',
    );
    assert.equal(nextFromLinkHeader('</items?page=3>; rel=next', base)?.href, 'https://erp.example.com/items?page=3');
    assert.equal(nextFromLinkHeader('<https://erp.example.com/items?page=1>; rel="prev"', base), undefined);
    assert.equal(getPath({ a: { b: [{ c: 3 }] } }, 'a.b.0.c'), 3);
    assert.equal(getPath({ a: 1 }, 'a.b'), undefined);
    const index = new PageIndex();
    index.addPage(1);
    index.addPage(501);
    index.addPage(1001);
    assert.deepEqual(index.locate(1), { page: 1, index: 1 });
    assert.deepEqual(index.locate(777), { page: 2, index: 277 });
    assert.deepEqual(index.locate(1001), { page: 3, index: 1 });
  });
});
