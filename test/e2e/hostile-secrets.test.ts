// Issue 12, item 3: credentials in URLs. A secret URL is never printed or stored, whatever its spelling;
// a credential written into a URL is refused before anything is sent, naming the variable to use instead.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSeed } from '../../src/emulator/index.js';
import { demoDir, type CliResult } from '../helpers/cli.js';
import { openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';
import { assertOneLineError } from '../helpers/errors.js';

const PASSWORD = 'hunter2-Passw0rd';
const PATH_SECRET = 'T0KENPATH-9f8e7d';
const QUERY_SECRET = 'qs3cret-1a2b3c';

/** Nothing the run printed or stored holds any of the secrets (the database files are read as bytes). */
function assertNowhere(shop: ShopWorkspace, results: CliResult[], secrets: string[]): void {
  const stored = readdirSync(join(shop.dir, '.invrecon'))
    .filter((f) => f.startsWith('snapshot.db'))
    .map((f) => readFileSync(join(shop.dir, '.invrecon', f)).toString('latin1'));
  for (const secret of secrets) {
    for (const r of results) assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `printed: ${secret}\n${r.stdout}\n${r.stderr}`);
    for (const bytes of stored) assert.ok(!bytes.includes(secret), `stored in the snapshot database: ${secret}`);
  }
}

describe('secrets in URLs (issue 12, item 3)', () => {
  let shop: ShopWorkspace;
  let hook: Server;
  let port = 0;
  const posts: string[] = [];
  before(async () => {
    shop = await openShopWorkspace({ seed: loadSeed(join(demoDir, 'shop.json')), demo: true });
    hook = createServer((req, res) => {
      posts.push(req.url ?? '');
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    port = (hook.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => hook.close(() => resolve()));
    await shop.close();
  });

  const configWith = (patch: (config: Record<string, any>) => void) => {
    const config = JSON.parse(readFileSync(join(demoDir, 'invrecon.config.json'), 'utf8')) as Record<string, any>;
    delete config.$schema;
    patch(config);
    const file = join(shop.dir, `c-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  it('a webhook URL from the environment, spelt HTTP:// with /a/../ and a ?token=, is in no output and no stored run', async () => {
    const config = configWith((c) => (c.alerts = { maxDeviation: 0, webhookUrlEnv: 'OPS_HOOK', retries: 1, timeoutMs: 2000 }));
    const url = `HTTP://127.0.0.1:${port}/a/../hooks/${PATH_SECRET}?token=${QUERY_SECRET}`;
    const result = await shop.cli(['sync', '--config', config, '--format', 'json'], { OPS_HOOK: url });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /alert webhook failed after 2 attempts/);
    assert.equal(posts.filter((p) => p.includes(PATH_SECRET)).length, 2, 'the webhook was called, twice (500 is retried)');
    const status = await shop.cli(['status', '--config', config, '--format', 'json']);
    assertNowhere(shop, [result, status], [PATH_SECRET, QUERY_SECRET]);
  });

  it('user:password@ in a webhook URL is refused: in the config (naming webhookUrlEnv) and from the environment', async () => {
    const inConfig = await shop.cli(['sync', '--config', configWith((c) => (c.alerts = { webhookUrl: `https://ops:${PASSWORD}@hooks.example.com/x` }))]);
    assertOneLineError(inConfig, /alerts\.webhookUrl: the URL carries a credential \(user:password@\).*alerts\.webhookUrlEnv/);
    const fromEnv = await shop.cli(['sync', '--config', configWith((c) => (c.alerts = { webhookUrlEnv: 'OPS_HOOK' }))], {
      OPS_HOOK: `HTTP://ops:${PASSWORD}@127.0.0.1:${port}/a/../h`,
    });
    assertOneLineError(fromEnv, /OPS_HOOK \(alerts\.webhookUrlEnv\): user:password@ in a webhook URL is not sent/);
    assertNowhere(shop, [inConfig, fromEnv], [PASSWORD]);
  });

  it('credentials in INVRECON_SHOPIFY_ENDPOINT are refused before any call, naming SHOPIFY_ADMIN_TOKEN; no retries', async () => {
    const calls = shop.emulator.state.counters.requests;
    const result = await shop.cli(['pull', 'shopify'], { INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url.replace('http://', `http://admin:${PASSWORD}@`) });
    assertOneLineError(
      result,
      /INVRECON_SHOPIFY_ENDPOINT: credentials in the URL \(user:password@\) are not accepted; the access token goes in SHOPIFY_ADMIN_TOKEN/,
    );
    assert.equal(shop.emulator.state.counters.requests, calls, 'nothing was sent');
    assertNowhere(shop, [result], [PASSWORD]);
  });

  it('credentials in erp.api.url (user:password@ or ?api_key=) are refused at config load, naming apiKeyEnv', async () => {
    const results: CliResult[] = [];
    for (const url of [`https://erp:${PASSWORD}@erp.example.com/items`, `https://erp.example.com/items?api_key=${QUERY_SECRET}`]) {
      const result = await shop.cli(['pull', 'erp', '--api', '--config', configWith((c) => (c.erp = { api: { url } }))]);
      assertOneLineError(
        result,
        /erp\.api\.url: the URL carries a credential \((user:password@|query parameter "api_key")\); name the environment variables that hold it instead: apiKeyEnv/,
      );
      results.push(result);
    }
    assertNowhere(shop, results, [PASSWORD, QUERY_SECRET]);
  });
});
