// Issue 12: what an adversarial user found. Each case runs the binary and checks that the answer is one
// located line and exit 1, that nothing was half-written, and that nothing outside the tool's files moved.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { csvText, randomBytes } from '../helpers/fuzz.js';
import { loadSeed } from '../../src/emulator/index.js';
import { demoDir, runCli, tempDir } from '../helpers/cli.js';
import { assertOneLineError } from '../helpers/errors.js';
import { openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';
import { sendJson, startServer } from '../unit/erp-api/fake-erp.js';

const HEADER = 'sku,warehouse,on_hand,reserved';

describe('hostile input: ERP exports (issue 12, items 5, 6, 9)', () => {
  const workspace = tempDir();
  const config = join(workspace.dir, 'invrecon.config.json');
  let n = 0;
  before(() => {
    writeFileSync(
      config,
      JSON.stringify({
        shopify: { shop: 'acme.myshopify.com' },
        erp: { csv: { path: 'erp.csv' } },
        locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main' }],
      }),
    );
  });
  after(() => workspace.cleanup());

  const pull = (bytes: string | Buffer, args: string[] = []) => {
    const path = join(workspace.dir, `export-${++n}.csv`);
    writeFileSync(path, bytes);
    return runCli(['pull', 'erp', '--csv', path, '--config', config, '--format', 'json', ...args]);
  };
  const snapshots = async (path = config) => {
    const listed = await runCli(['snapshots', '--format', 'json', '--config', path]);
    assert.equal(listed.code, 0, listed.stderr);
    return (JSON.parse(listed.stdout) as { snapshots: { rows: number }[] }).snapshots.length;
  };

  it('refuses bad text in SKUs with file:line:column: invalid UTF-8, NUL, an embedded newline, a 10 MB SKU', async () => {
    const before = await snapshots();
    const latin1 = Buffer.concat([Buffer.from(`${HEADER}\nOK,WH-A,1,0\nCAF`), Buffer.from([0xc9]), Buffer.from(',WH-A,2,0\n')]);
    assertOneLineError(await pull(latin1), /export-\d+\.csv:3:4: not valid UTF-8 \(byte 0xC9\)/);
    assertOneLineError(await pull(`${HEADER}\nA\u0000B,WH-A,1,0\n`), /export-\d+\.csv:2:1: sku contains a control character \(U\+0000\)/);
    assertOneLineError(await pull(`${HEADER}\n"A\nB",WH-A,1,0\n`), /export-\d+\.csv:3:1: sku contains a control character \(U\+000A\)/);
    assertOneLineError(await pull(`${HEADER}\n${'X'.repeat(300)},WH-A,1,0\n`), /export-\d+\.csv:2:1: sku is 300 characters long; at most 255/);
    assertOneLineError(await pull(`${HEADER}\n"${'X'.repeat(10 * 1024 * 1024)}",WH-A,1,0\n`), /export-\d+\.csv:\d+: a record longer than 1 MB/);
    assert.equal(await snapshots(), before);
  });

  it('the binary on random bytes and random CSV-shaped text: exit 0 with a snapshot, or exit 1 with a located error and none', async () => {
    // Few runs: each spawns the binary (the in-process fuzz test runs hundreds).
    await fc.assert(
      fc.asyncProperty(fc.oneof(csvText, randomBytes), async (bytes) => {
        const before = await snapshots();
        const result = await pull(bytes);
        if (result.code === 0) {
          assert.equal(typeof JSON.parse(result.stdout).snapshotId, 'number');
          assert.equal(await snapshots(), before + 1);
        } else {
          assert.equal(result.code, 1, result.stderr);
          assert.match(result.stderr, /export-\d+\.csv(:\d+)?:/);
          assert.doesNotMatch(result.stderr, /\n\s+at |internal error/);
          assert.equal(await snapshots(), before);
        }
      }),
      { numRuns: 6 },
    );
  });

  it('a 10 MB header line gives a short error, not a 30 MB one', async () => {
    assertOneLineError(await pull(`${'h'.repeat(10 * 1024 * 1024)},on_hand\nA,1\n`), /(missing required column "sku"|a record longer than 1 MB)/);
  });

  it('the ERP API: a SKU of true, ["x"] or {"a":1} is refused by page and record, not stored as text', async () => {
    const server = await startServer((_request, response) =>
      sendJson(response, 200, [
        { sku: 'OK-1', warehouse: 'WH-A', on_hand: 1 },
        { sku: true, warehouse: 'WH-A', on_hand: 1 },
        { sku: ['x'], warehouse: 'WH-A', on_hand: 1 },
        { sku: { a: 1 }, warehouse: 'WH-A', on_hand: 1 },
      ]),
    );
    try {
      const api = join(workspace.dir, 'api.config.json');
      writeFileSync(
        api,
        JSON.stringify({
          shopify: { shop: 'acme.myshopify.com' },
          erp: { api: { url: `${server.url}/stock` } },
          locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main' }],
        }),
      );
      const before = await snapshots(api);
      const result = await runCli(['pull', 'erp', '--config', api]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /3 bad rows; no snapshot written/);
      assert.match(result.stderr, /page 1, record 2: sku expected text, got boolean "true"/);
      assert.match(result.stderr, /page 1, record 3: sku expected text, got an array/);
      assert.match(result.stderr, /page 1, record 4: sku expected text, got an object/);
      assert.equal(await snapshots(api), before);
    } finally {
      await server.close();
    }
  });

  it('stores SKUs trimmed and in Unicode NFC', async () => {
    const result = await pull(`${HEADER}\n  CAFE\u0301 ,WH-A,1,0\n`);
    assert.equal(result.code, 0, result.stderr);
    const db = new Database(join(workspace.dir, '.invrecon', 'snapshot.db'), { readonly: true });
    try {
      const skus = db.prepare('SELECT sku FROM erp_levels WHERE snapshot_id = ?').pluck().all(JSON.parse(result.stdout).snapshotId) as string[];
      assert.deepEqual(skus, ['CAF\u00c9']);
    } finally {
      db.close();
    }
  });

  it('European thousands: "1.000" in a ";" file is an error unless erp.csv.thousands says what it is', async () => {
    const before = await snapshots();
    assertOneLineError(await pull('sku;warehouse;on_hand\nA;WH-A;1.000\n'), /export-\d+\.csv:2:3: on_hand "1\.000" is ambiguous.*erp\.csv\.thousands/);
    assert.equal(await snapshots(), before);
    const european = join(workspace.dir, 'european.config.json');
    writeFileSync(
      european,
      JSON.stringify({
        shopify: { shop: 'acme.myshopify.com' },
        erp: { csv: { path: 'european.csv', thousands: '.', decimal: ',' } },
        locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Main' }],
        snapshot: { path: 'european.db' },
      }),
    );
    writeFileSync(join(workspace.dir, 'european.csv'), 'sku;warehouse;on_hand;reserved\nA;WH-A;1.000;0\nB;WH-A;12.500;1.250,00\nC;WH-A;7;0\n');
    const result = await runCli(['pull', 'erp', '--config', european, '--format', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const db = new Database(join(workspace.dir, 'european.db'), { readonly: true });
    try {
      assert.deepEqual(db.prepare('SELECT sku, on_hand, reserved FROM erp_levels ORDER BY sku').raw().all(), [
        ['A', 1000, 0],
        ['B', 12500, 1250],
        ['C', 7, 0],
      ]);
    } finally {
      db.close();
    }
  });

  it('--csv given a directory or a FIFO: one line, exit 1 (a FIFO is not opened: it would block)', async () => {
    mkdirSync(join(workspace.dir, 'a-folder'));
    assertOneLineError(
      await runCli(['pull', 'erp', '--csv', join(workspace.dir, 'a-folder'), '--config', config]),
      /a-folder: ERP export is a directory; expected a regular file/,
    );
    execFileSync('mkfifo', [join(workspace.dir, 'a-fifo')]);
    assertOneLineError(
      await runCli(['pull', 'erp', '--csv', join(workspace.dir, 'a-fifo'), '--config', config]),
      /a-fifo: ERP export is a FIFO; expected a regular file/,
    );
  });

  it('a config with a UTF-8 BOM is read; one with a key twice is refused at the second', async () => {
    const bom = join(workspace.dir, 'bom.config.json');
    writeFileSync(bom, '\uFEFF' + readFileSync(config, 'utf8'));
    assert.equal((await runCli(['snapshots', '--config', bom])).code, 0);
    const twice = join(workspace.dir, 'twice.config.json');
    writeFileSync(
      twice,
      '{\n  "shopify": { "shop": "acme.myshopify.com" },\n  "erp": { "csv": { "path": "erp.csv" } },\n  "unknownSkus": "zero",\n  "unknownSkus": "ignore",\n  "locations": []\n}\n',
    );
    assertOneLineError(await runCli(['snapshots', '--config', twice]), /twice\.config\.json:5:3: key "unknownSkus" appears twice/);
  });
});

describe('hostile input: output and store paths (issue 12, items 2, 9)', () => {
  let shop: ShopWorkspace;
  before(async () => {
    shop = await openShopWorkspace({ seed: loadSeed(join(demoDir, 'shop.json')), demo: true });
    for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side])).code, 0);
  });
  after(() => shop.close());

  const withSnapshotPath = (path: string) => {
    const file = join(shop.dir, `snap-${Math.random().toString(36).slice(2)}.config.json`);
    const config = JSON.parse(readFileSync(join(shop.dir, 'invrecon.config.json'), 'utf8')) as Record<string, unknown>;
    config.snapshot = { path };
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  it('plan --out, --erp-out and report --html refuse devices, FIFOs and directories, and leave them as they were', async () => {
    execFileSync('mkfifo', [join(shop.dir, 'fifo')]);
    mkdirSync(join(shop.dir, 'folder'));
    // A link to /dev/zero stands for a device: a build with the old bug replaces the link, not the device.
    symlinkSync('/dev/zero', join(shop.dir, 'zero-device'));
    assertOneLineError(await shop.cli(['plan', '--out', 'zero-device']), /zero-device: plan file is a device; expected a regular file/);
    assert.ok(
      lstatSync(join(shop.dir, 'zero-device')).isSymbolicLink() && statSync(join(shop.dir, 'zero-device')).isCharacterDevice(),
      'the device is still there',
    );
    assertOneLineError(await shop.cli(['plan', '--out', 'fifo']), /fifo: plan file is a FIFO/);
    assert.ok(statSync(join(shop.dir, 'fifo')).isFIFO());
    assertOneLineError(await shop.cli(['plan', '--out', 'folder']), /folder: plan file is a directory/);
    assertOneLineError(await shop.cli(['plan', '--out', 'ok.json', '--erp-out', 'zero-device']), /zero-device: ERP corrections file is a device/);
    assertOneLineError(await shop.cli(['report', '--html', 'folder']), /folder: HTML report is a directory/);
    assertOneLineError(await shop.cli(['report', '--html', 'zero-device']), /zero-device: HTML report is a device/);
    assert.ok(statSync(join(shop.dir, 'zero-device')).isCharacterDevice());
  });

  it('snapshot.path is checked before any chmod: a folder, the ERP export, a device', async () => {
    const erpMode = statSync(join(shop.dir, 'erp.csv')).mode;
    const dirMode = statSync(shop.dir).mode;
    assertOneLineError(await shop.cli(['snapshots', '--config', withSnapshotPath('.')]), /snapshot\.path is a directory; expected a regular file/);
    assert.equal(statSync(shop.dir).mode, dirMode, 'the working folder keeps its mode');
    assertOneLineError(await shop.cli(['snapshots', '--config', withSnapshotPath('erp.csv')]), /erp\.csv: snapshot\.path is not a SQLite database/);
    assert.equal(statSync(join(shop.dir, 'erp.csv')).mode, erpMode, 'the export keeps its mode');
    // A FIFO, not a device: a build with the old bug would chmod whatever the path names.
    execFileSync('mkfifo', [join(shop.dir, 'store-fifo')]);
    const fifoMode = statSync(join(shop.dir, 'store-fifo')).mode;
    assertOneLineError(await shop.cli(['snapshots', '--config', withSnapshotPath('store-fifo')]), /snapshot\.path is a FIFO/);
    assert.equal(statSync(join(shop.dir, 'store-fifo')).mode, fifoMode, 'the FIFO keeps its mode');
    assertOneLineError(
      await shop.cli(['snapshots', '--config', withSnapshotPath('erp.csv/snapshot.db')]),
      /erp\.csv\/snapshot\.db: cannot use this path: a part of the path is not a directory/,
    );
  });

  it("refuses another application's SQLite file without adding a table; recognises and stamps an unstamped invrecon database", async () => {
    const foreign = join(shop.dir, 'other-app.db');
    const other = new Database(foreign);
    other.exec('CREATE TABLE contacts (name TEXT)');
    other.close();
    assertOneLineError(
      await shop.cli(['snapshots', '--config', withSnapshotPath('other-app.db')]),
      /other-app\.db: snapshot\.path is a SQLite database of another application \(tables: contacts\)/,
    );
    const check = new Database(foreign, { readonly: true });
    assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all(), ['contacts']);
    check.close();

    const ours = join(shop.dir, '.invrecon', 'snapshot.db');
    const db = new Database(ours);
    assert.equal(db.pragma('application_id', { simple: true }), 0x494e5652, 'stamped on create');
    db.pragma('application_id = 0');
    db.close();
    assert.equal((await shop.cli(['snapshots'])).code, 0);
    const again = new Database(ours, { readonly: true });
    assert.equal(again.pragma('application_id', { simple: true }), 0x494e5652, 'stamped when recognised');
    again.close();
  });

  it('a truncated or garbage database, a plan --out folder and init where it cannot write: one line each, exit 1', async () => {
    const damaged = join(shop.dir, 'damaged.db');
    writeFileSync(damaged, readFileSync(join(shop.dir, '.invrecon', 'snapshot.db')));
    truncateSync(damaged, 4096 * 3);
    const result = await shop.cli(['diff', '--config', withSnapshotPath('damaged.db')]);
    assertOneLineError(result, /damaged\.db: the snapshot database is damaged|snapshot database: database disk image is malformed|no ERP snapshot yet/);
    writeFileSync(join(shop.dir, 'garbage.db'), Buffer.alloc(8192, 0x41));
    assertOneLineError(await shop.cli(['snapshots', '--config', withSnapshotPath('garbage.db')]), /garbage\.db: snapshot\.path is not a SQLite database/);
    const noDir = join(shop.dir, 'erp.csv', 'invrecon.config.json');
    assertOneLineError(await runCli(['init', '--config', noDir]), /invrecon\.config\.json: cannot use this path: a part of the path is not a directory/);
    assert.ok(!existsSync(join(shop.dir, 'erp.csv.tmp')));
  });
});
