import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';

describe('init and pull erp', () => {
  const workspace = tempDir();
  after(() => workspace.cleanup());

  it('init writes a starter config and samples, and refuses to overwrite them', async () => {
    const first = await runCli(['init'], { cwd: workspace.dir });
    assert.equal(first.code, 0, first.stderr);
    for (const file of ['invrecon.config.json', 'erp.csv', 'bundles.csv', 'shop.json']) assert.ok(existsSync(join(workspace.dir, file)), file);
    const second = await runCli(['init'], { cwd: workspace.dir });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /refusing to overwrite/);
  });

  it('pull erp stores the sample export as a snapshot and prints its figures as JSON', async () => {
    const result = await runCli(['pull', 'erp', '--format', 'json'], { cwd: workspace.dir });
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.side, 'erp');
    assert.equal(json.rows, 14);
    assert.equal(json.skus, 7);
    assert.equal(typeof json.snapshotId, 'number');
    assert.match(result.stderr, /warehouse "WH-X" is not mapped/);
    const db = join(workspace.dir, '.invrecon', 'snapshot.db');
    assert.equal(statSync(db).mode & 0o777, 0o600);
  });
});
