import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoDir, runCli } from '../helpers/cli.js';
import { spawnEmulatorProcess } from '../helpers/emulator-process.js';
import { cliEnv, demoWorkspace, spawnEmulator, TOKEN } from './sync-helpers.js';

interface Check {
  id: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  message: string;
  fix?: string;
  details?: string[];
}

function doctorJson(stdout: string): { ok: boolean; checks: Check[]; failed: number; warnings: number; schemaVersion: number } {
  return JSON.parse(stdout);
}

function check(checks: Check[], id: string): Check {
  const found = checks.find((c) => c.id === id);
  assert.ok(found, `no ${id} check in ${JSON.stringify(checks.map((c) => c.id))}`);
  return found;
}

/** A TCP server that accepts connections and never answers: the worst kind of dead endpoint. */
function blackhole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

describe('invrecon doctor without a working Shopify', () => {
  const workspace = demoWorkspace();
  let dead: { url: string; close(): Promise<void> };
  before(async () => {
    dead = await blackhole();
  });
  after(async () => {
    await dead.close();
    workspace.cleanup();
  });

  it('an endpoint that never answers fails the endpoint check within seconds, naming the URL (exit 1)', async () => {
    const started = Date.now();
    const result = await runCli(['doctor'], { cwd: workspace.dir, env: cliEnv(dead.url) });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.code, 1, result.stderr);
    const url = `${dead.url}/admin/api/2026-10/graphql.json`;
    assert.match(result.stdout, new RegExp(`^✗ endpoint: ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no answer within 5 s$`, 'm'));
    assert.match(result.stdout, /^ {2}→ check INVRECON_SHOPIFY_ENDPOINT/m);
    assert.match(result.stdout, /^- scopes|^- access scopes: not checked: the endpoint did not answer$/m);
    assert.match(result.stdout, /^✓ config: .* is valid$/m);
    assert.match(result.stdout, /^✓ ERP source: .*erp\.csv: header and rows readable \(14 rows, 7 SKUs, 4 warehouses\)$/m);
    assert.match(result.stdout, /^⚠ warehouses: 1 warehouse in the export is mapped to no location: its rows are ignored$/m);
    assert.match(result.stdout, /^1 check failed \(1 warning\)/m);
    // Not a timed assertion: the figure is printed for the record (the probe's timeout is 5 s, no retry).
    console.log(`doctor against a dead endpoint took ${seconds.toFixed(1)} s`);
  });

  it('a refused connection fails the same way, and --format json says so too', async () => {
    const closed = await blackhole();
    await closed.close();
    const result = await runCli(['doctor', '--format', 'json'], { cwd: workspace.dir, env: cliEnv(closed.url) });
    assert.equal(result.code, 1, result.stderr);
    const report = doctorJson(result.stdout);
    assert.equal(report.schemaVersion, 1);
    assert.equal(report.ok, false);
    const endpoint = check(report.checks, 'endpoint');
    assert.equal(endpoint.status, 'fail');
    assert.ok(endpoint.message.startsWith(`${closed.url}/admin/api/2026-10/graphql.json: `), endpoint.message);
    assert.match(endpoint.message, /ECONNREFUSED/);
    assert.equal(check(report.checks, 'scopes').status, 'skip');
  });

  it('no token: the token check fails with what to export; nothing is sent', async () => {
    const result = await runCli(['doctor', '--format', 'json'], {
      cwd: workspace.dir,
      env: { INVRECON_SHOPIFY_ENDPOINT: dead.url, SHOPIFY_ADMIN_TOKEN: undefined },
    });
    assert.equal(result.code, 1);
    const token = check(doctorJson(result.stdout).checks, 'token');
    assert.equal(token.status, 'fail');
    assert.match(token.fix!, /export SHOPIFY_ADMIN_TOKEN=/);
  });

  it('an invalid config fails the config check, naming the key; the rest is skipped', async () => {
    writeFileSync(
      join(workspace.dir, 'bad.json'),
      JSON.stringify({ shopify: { shop: 'x.myshopify.com' }, erp: { csv: { path: 'erp.csv' } }, locations: [{ warehouses: [], shopifyLocation: 'A' }] }),
    );
    const result = await runCli(['doctor', '--config', 'bad.json'], { cwd: workspace.dir, env: cliEnv(dead.url) });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^✗ config: /m);
    assert.match(result.stdout, /locations\[0\]\.warehouses/);
    assert.match(result.stdout, /^- ERP source: not checked: needs a valid config$/m);
  });

  it('a bad ERP export fails the ERP source check with the located rows', async () => {
    writeFileSync(join(workspace.dir, 'erp.csv'), 'sku,warehouse,on_hand,reserved\nTEE-RED-M,WH-A,12.5,0\nMUG-WHT,WH-A,3,0\n');
    const result = await runCli(['doctor'], { cwd: workspace.dir, env: cliEnv(dead.url) });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^✗ ERP source: .*erp\.csv: 1 bad row \(a pull would store nothing\)$/m);
    assert.match(result.stdout, /erp\.csv:2:3: on_hand expected a whole number, got "12\.5"/);
  });
});

describe('invrecon doctor against the emulator', () => {
  const workspace = demoWorkspace();
  after(() => workspace.cleanup());

  it('passes on the demo set-up (exit 0): every check ✓, what the tool tolerates a ⚠', async () => {
    const emulator = await spawnEmulator();
    try {
      const result = await runCli(['doctor'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.doesNotMatch(result.stdout, /^✗/m);
      for (const line of [
        /^✓ config: /m,
        /^✓ token: SHOPIFY_ADMIN_TOKEN is set and accepted$/m,
        /^✓ endpoint: http:\/\/127\.0\.0\.1:\d+\/admin\/api\/2026-10\/graphql\.json answers/m,
        /^✓ API version: 2026-10/m,
        /^✓ access scopes: read_inventory, write_inventory, read_locations granted$/m,
        /^✓ location: locations\[0\] "Main Warehouse": found \(gid:\/\/shopify\/Location\/1\), active, fed by WH-A, WH-A2$/m,
        /^✓ location: locations\[1\] "Downtown Store": found \(gid:\/\/shopify\/Location\/2\), active, fed by STORE-1$/m,
        // An unmapped warehouse and a location no warehouse feeds are tolerated by design: warnings.
        /^⚠ warehouses: 1 warehouse in the export is mapped to no location: its rows are ignored$/m,
        /^⚠ other locations: 1 active Shopify location is fed by no warehouse: left as it is$/m,
        /^ {4}"Pop-up Kiosk" \(gid:\/\/shopify\/Location\/3\)$/m,
        /^Ready: no check failed \(2 warnings\)\.$/m,
      ]) {
        assert.match(result.stdout, line);
      }
      // It reads only: no snapshot database was created.
      const snapshots = await runCli(['snapshots', '--format', 'json'], { cwd: workspace.dir });
      assert.deepEqual(JSON.parse(snapshots.stdout).snapshots, []);
    } finally {
      await emulator.stop();
    }
  });

  it('fails on a missing access scope, naming it and what to do (exit 1)', async () => {
    const emulator = await spawnEmulator(['--scopes', 'read_inventory,read_locations']);
    try {
      const result = await runCli(['doctor', '--format', 'json'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
      assert.equal(result.code, 1, result.stderr);
      const report = doctorJson(result.stdout);
      const scopes = check(report.checks, 'scopes');
      assert.equal(scopes.status, 'fail');
      assert.match(scopes.message, /^missing access scope write_inventory \(granted: read_inventory, read_locations\)$/);
      assert.match(scopes.fix!, /add write_inventory to the app's Admin API scopes/);
      assert.equal(report.failed, 1);
      assert.equal(check(report.checks, 'endpoint').status, 'ok');
    } finally {
      await emulator.stop();
    }
  });

  it('fails on a mapped location that is deactivated, and on one that does not exist', async () => {
    const seed = JSON.parse(readFileSync(join(demoDir, 'shop.json'), 'utf8'));
    seed.locations[1].isActive = false;
    writeFileSync(join(workspace.dir, 'shop.json'), JSON.stringify(seed));
    writeFileSync(
      join(workspace.dir, 'renamed.json'),
      readFileSync(join(workspace.dir, 'invrecon.config.json'), 'utf8').replace('"Main Warehouse"', '"main warehouse"'),
    );
    const emulator = await spawnEmulatorProcess(['--port', '0', '--token', TOKEN, '--seed', join(workspace.dir, 'shop.json')]);
    try {
      const result = await runCli(['doctor'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
      assert.equal(result.code, 1);
      assert.match(
        result.stdout,
        /^✗ location: locations\[1\] "Downtown Store" \(gid:\/\/shopify\/Location\/2\) is deactivated: it stocks nothing and takes no writes$/m,
      );
      const renamed = await runCli(['doctor', '--config', 'renamed.json'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
      assert.equal(renamed.code, 1);
      assert.match(
        renamed.stdout,
        /^✗ location: locations\[0\]\.shopifyLocation: no Shopify location is named "main warehouse" \(did you mean "Main Warehouse"\?\)$/m,
      );
    } finally {
      await emulator.stop();
    }
  });

  it('a refused token fails the token check (exit 1)', async () => {
    const emulator = await spawnEmulator();
    try {
      const result = await runCli(['doctor'], { cwd: workspace.dir, env: cliEnv(emulator.url, { SHOPIFY_ADMIN_TOKEN: 'shpat_wrong' }) });
      assert.equal(result.code, 1);
      assert.match(result.stdout, /^✗ token: SHOPIFY_ADMIN_TOKEN is set but .* refused it \(HTTP 401\)$/m);
      assert.doesNotMatch(result.stdout + result.stderr, /shpat_wrong/);
    } finally {
      await emulator.stop();
    }
  });
});
