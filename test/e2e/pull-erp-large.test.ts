import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { binPath, runCli, tempDir } from '../helpers/cli.js';
import { writeErpCsv } from '../helpers/generate.js';
import { measure } from '../helpers/measure.js';

describe('pull erp of a 1,000,000-row export', () => {
  const workspace = tempDir();
  after(() => workspace.cleanup());

  it('completes with flat memory (peak RSS under 200 MB for a 40 MB file)', async () => {
    await writeErpCsv(join(workspace.dir, 'erp.csv'), 1_000_000);
    const warehouses = Array.from({ length: 10 }, (_, i) => `WH-${String(i).padStart(2, '0')}`);
    writeFileSync(
      join(workspace.dir, 'invrecon.config.json'),
      JSON.stringify({ shopify: { shop: 'big.myshopify.com' }, erp: { csv: { path: 'erp.csv' } }, locations: [{ warehouses, shopifyLocation: 'Main' }] }),
    );
    const result = await measure(process.execPath, [binPath, 'pull', 'erp', '--format', 'json'], { cwd: workspace.dir });
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.rows, 1_000_000);
    assert.equal(json.skus, 100_000);
    assert.ok(result.peakRssMb !== null, 'peak RSS is readable from /proc');
    assert.ok(result.peakRssMb < 200, `peak RSS ${result.peakRssMb.toFixed(0)} MB`);
  });

  it('reports a bad row found by the parsing thread with its line, and writes nothing', async () => {
    // 150,000 rows is over the size at which the CSV is parsed in a worker thread.
    await writeErpCsv(join(workspace.dir, 'bad.csv'), 150_000);
    appendFileSync(join(workspace.dir, 'bad.csv'), 'SKU-X,WH-00,1.5,0,0,,\n');
    const before = JSON.parse((await runCli(['snapshots', '--format', 'json'], { cwd: workspace.dir })).stdout).snapshots.length;
    const result = await runCli(['pull', 'erp', '--csv', 'bad.csv'], { cwd: workspace.dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /bad\.csv:150002:3: on_hand expected a whole number, got "1\.5"/);
    const afterCount = JSON.parse((await runCli(['snapshots', '--format', 'json'], { cwd: workspace.dir })).stdout).snapshots.length;
    assert.equal(afterCount, before);
  });
});
