import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { alertPayload, decideAlert, postWebhook, resolveWebhookUrl, type AlertsConfig } from '../../../src/ops/alerts.js';
import { createLogger } from '../../../src/ops/log.js';
import type { DriftingLevel, SyncSummary } from '../../../src/ops/runs.js';
import { InputError } from '../../../src/errors.js';
import { redactSecrets } from '../../../src/secrets.js';
import { resolveConfig, type LoadedConfig } from '../../../src/config/load.js';

const alerts = (over: Partial<AlertsConfig> = {}): AlertsConfig => ({ onFailure: true, timeoutMs: 500, retries: 2, ...over });
const level = (sku: string, delta: number, status = 'change'): DriftingLevel => ({
  sku,
  locationName: 'Main',
  target: 10 + delta,
  observed: 10,
  delta,
  status,
});
const ok = { outcome: 'ok' as const, conflicts: 0, failed: 0 };

describe('decideAlert', () => {
  it('raises nothing without an alerts block', () => {
    assert.deepEqual(decideAlert(undefined, { ...ok, outcome: 'error' }, [level('A', 100)]), { reasons: [], deviations: [], deviationCount: 0 });
  });

  it('lists the levels whose |delta| exceeds maxDeviation, largest first (at the limit is fine)', () => {
    const decision = decideAlert(alerts({ maxDeviation: 5 }), ok, [level('A', 5), level('B', -9), level('C', 6), level('D', -5)]);
    assert.deepEqual(
      decision.deviations.map((d) => d.sku),
      ['B', 'C'],
    );
    assert.match(decision.reasons[0]!, /2 levels off by more than 5 \(alerts\.maxDeviation\).*largest B @ Main -9/);
  });

  it('alerts on a failed, refused or conflicting sync when onFailure is on, not when off', () => {
    assert.match(decideAlert(alerts(), { ...ok, outcome: 'error', error: 'boom' }, []).reasons[0]!, /the sync failed: boom/);
    assert.match(decideAlert(alerts(), { ...ok, outcome: 'refused' }, []).reasons[0]!, /guard refused/);
    assert.match(decideAlert(alerts(), { outcome: 'conflicts', conflicts: 2, failed: 1 }, []).reasons[0]!, /3 level\(s\) unapplied/);
    assert.deepEqual(decideAlert(alerts({ onFailure: false }), { ...ok, outcome: 'error' }, []).reasons, []);
    assert.deepEqual(decideAlert(alerts(), { ...ok, outcome: 'drift' }, [level('A', 3)]).reasons, []);
  });
});

describe('resolveWebhookUrl', () => {
  it('accepts https and loopback http, refuses plain http elsewhere', () => {
    assert.equal(resolveWebhookUrl(alerts({ webhookUrl: 'https://hooks.example.com/x' }))?.host, 'hooks.example.com');
    assert.equal(resolveWebhookUrl(alerts({ webhookUrl: 'http://127.0.0.1:9/x' }))?.port, '9');
    assert.throws(
      () => resolveWebhookUrl(alerts({ webhookUrl: 'http://hooks.example.com/x' })),
      (e: unknown) => e instanceof InputError && /alerts\.webhookUrl: plain http is only allowed for loopback/.test(e.message),
    );
  });

  it('reads webhookUrlEnv, says when it is unset, and redacts the URL from then on', () => {
    const secretUrl = 'https://hooks.example.com/services/T000/B000/very-secret-path';
    assert.throws(() => resolveWebhookUrl(alerts({ webhookUrlEnv: 'HOOK' }), {}), /HOOK \(alerts\.webhookUrlEnv\) is not set/);
    assert.equal(resolveWebhookUrl(alerts({ webhookUrlEnv: 'HOOK' }), { HOOK: secretUrl })?.href, secretUrl);
    assert.equal(redactSecrets(`posting to ${secretUrl}`), 'posting to [redacted]');
  });
});

describe('postWebhook', () => {
  let server: Server;
  let base = '';
  const received: { path: string; body: any; type: string | undefined }[] = [];
  let failuresLeft = 0;
  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (c: string) => (text += c));
      req.on('end', () => {
        if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
        if (req.url === '/redirect') {
          res.writeHead(302, { location: 'http://example.com/' });
          return void res.end();
        }
        received.push({ path: req.url!, body: JSON.parse(text), type: req.headers['content-type'] });
        if (req.url === '/flaky' && failuresLeft-- > 0) {
          res.writeHead(503);
          return void res.end();
        }
        res.writeHead(req.url === '/broken' ? 500 : req.url === '/gone' ? 410 : 200);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const config = { shopify: { shop: 'demo-shop.myshopify.com' }, alerts: alerts({ maxDeviation: 2 }) } as unknown as LoadedConfig;
  const summary = {
    dryRun: true,
    outcome: 'drift',
    levelsCompared: 12,
    drifting: 3,
    applied: 0,
    conflicts: 0,
    failed: 0,
    remaining: 3,
    byLocation: [],
  } as unknown as SyncSummary;
  const decision = decideAlert(config.alerts, summary, [level('TEE', 8), level('MUG', -3)]);
  const payload = alertPayload(config, 42, summary, decision);
  const noSleep = async () => undefined;

  it('POSTs JSON with a Slack-compatible text and the structured fields', async () => {
    const result = await postWebhook(new URL(`${base}/ok`), payload, { timeoutMs: 1000, retries: 2, sleep: noSleep });
    assert.deepEqual({ sent: result.sent, attempts: result.attempts, status: result.status }, { sent: true, attempts: 1, status: 200 });
    const got = received.find((r) => r.path === '/ok')!;
    assert.equal(got.type, 'application/json');
    assert.match(got.body.text, /^invrecon sync #42 on demo-shop\.myshopify\.com \(dry run\): drift\n- 2 levels off by more than 2/);
    assert.match(got.body.text, /• TEE @ Main: target 18, Shopify 10 \(\+8\)/);
    assert.equal(got.body.runId, 42);
    // No level left out: no line about it, and null rather than a zero count.
    assert.equal(got.body.leftOut, null);
    assert.deepEqual(got.body.leftOutByLocation, []);
    assert.doesNotMatch(got.body.text, /left out/);
    assert.deepEqual(
      got.body.deviations.map((d: DriftingLevel) => d.sku),
      ['TEE', 'MUG'],
    );
    assert.equal(got.body.maxDeviation, 2);
  });

  it('retries 5xx and succeeds when the hook recovers', async () => {
    failuresLeft = 2;
    const result = await postWebhook(new URL(`${base}/flaky`), payload, { timeoutMs: 1000, retries: 2, sleep: noSleep });
    assert.deepEqual({ sent: result.sent, attempts: result.attempts }, { sent: true, attempts: 3 });
  });

  it('gives up after the retries on 500, at once on a 4xx, and never throws', async () => {
    const broken = await postWebhook(new URL(`${base}/broken`), payload, { timeoutMs: 1000, retries: 2, sleep: noSleep });
    assert.deepEqual({ sent: broken.sent, attempts: broken.attempts, error: broken.error }, { sent: false, attempts: 3, error: 'HTTP 500' });
    const gone = await postWebhook(new URL(`${base}/gone`), payload, { timeoutMs: 1000, retries: 2, sleep: noSleep });
    assert.deepEqual({ sent: gone.sent, attempts: gone.attempts }, { sent: false, attempts: 1 });
  });

  it('reports a timeout, a closed port, and does not follow redirects', async () => {
    const slow = await postWebhook(new URL(`${base}/slow`), payload, { timeoutMs: 100, retries: 0, sleep: noSleep });
    assert.equal(slow.sent, false);
    assert.match(slow.error!, /no answer within 100 ms/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await postWebhook(new URL(`http://127.0.0.1:${port}/x`), payload, { timeoutMs: 500, retries: 1, sleep: noSleep });
    assert.equal(refused.sent, false);
    assert.equal(refused.attempts, 2);
    assert.match(refused.error!, /ECONNREFUSED/);
    const redirected = await postWebhook(new URL(`${base}/redirect`), payload, { timeoutMs: 500, retries: 0, sleep: noSleep });
    assert.deepEqual({ sent: redirected.sent, status: redirected.status }, { sent: false, status: 302 });
  });
});

describe('logger', () => {
  it('writes JSON lines with ts, level, msg and fields, secrets redacted', () => {
    const lines: string[] = [];
    process.env.SHOPIFY_ADMIN_TOKEN = 'shpat_unit_secret_token';
    try {
      const log = createLogger(
        'json',
        (line) => lines.push(line),
        () => new Date('2026-01-02T03:04:05Z'),
      );
      log.warn('token shpat_unit_secret_token leaked?', { runId: 3, detail: 'shpat_unit_secret_token' });
      createLogger('text', (line) => lines.push(line)).error('plain');
    } finally {
      delete process.env.SHOPIFY_ADMIN_TOKEN;
    }
    assert.deepEqual(JSON.parse(lines[0]!), { ts: '2026-01-02T03:04:05.000Z', level: 'warn', msg: 'token [redacted] leaked?', runId: 3, detail: '[redacted]' });
    assert.equal(lines[1], 'error: plain');
  });
});

describe('alerts config', () => {
  const base = {
    shopify: { shop: 'demo-shop.myshopify.com' },
    erp: { csv: { path: 'erp.csv' } },
    locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main' }],
  };
  const load = (alerts: unknown) => resolveConfig({ ...base, alerts }, '/tmp/invrecon.config.json');

  it('fills defaults', () => {
    assert.deepEqual(load({ maxDeviation: 3 }).alerts, { maxDeviation: 3, onFailure: true, timeoutMs: 5000, retries: 2 });
  });

  it('names the key of a bad value', () => {
    assert.throws(
      () => load({ webhookUrl: 'http://hooks.example.com/x' }),
      (e: unknown) => e instanceof InputError && /alerts\.webhookUrl: plain http:\/\/ is accepted for loopback addresses only/.test(e.message),
    );
    assert.throws(() => load({ webhookUrl: 'https://a.example/x', webhookUrlEnv: 'HOOK' }), /alerts: set webhookUrl or webhookUrlEnv, not both/);
    assert.throws(() => load({ maxDeviation: -1 }), /alerts\.maxDeviation/);
    assert.throws(() => load({ webhookUrlEnv: 'not a name' }), /alerts\.webhookUrlEnv: expected the name of an environment variable/);
    assert.throws(() => load({ extra: 1 }), /alerts\.extra: unknown key/);
  });
});
