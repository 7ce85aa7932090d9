import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';

describe('invrecon demo', () => {
  it('runs the whole loop with no setup and ends with zero Shopify drift', async () => {
    const result = await runCli(['demo'], { env: { SHOPIFY_ADMIN_TOKEN: undefined, INVRECON_SHOPIFY_ENDPOINT: undefined } });
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    const steps = [...out.matchAll(/── step (\d)\/7: invrecon (.+?) {2}/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(steps, ['1 pull erp', '2 pull shopify', '3 diff', '4 plan --out plan.json', '5 apply plan.json --commit', '6 pull shopify', '7 diff']);
    assert.match(out, /Applied 7, carried forward 0, skipped 0, conflicts 0, unresolved 0, failed 0/);
    // The final diff: only the ERP-side correction and reported rows remain, no Shopify change.
    const finalDiff = out.slice(out.indexOf('── step 7/7'));
    assert.match(finalDiff, /POS-BAG .* erp-correction/);
    assert.doesNotMatch(finalDiff, /oversell │|lost sales │/);
    assert.match(out, /Left for the ERP, not Shopify: POS-BAG @ Downtown Store/);
    assert.match(out, /Done: zero Shopify drift\./);
    const folder = /folder: {3}(\S+)/.exec(out)![1]!;
    assert.equal(existsSync(folder), false, 'the temporary folder is removed without --keep');
    assert.doesNotMatch(out + result.stderr, /demo-[0-9a-f]{24}/, 'the demo token is never printed');
  });

  it('--dir keeps the folder, usable afterwards; a non-empty folder is refused', async () => {
    const workspace = tempDir('invrecon-demo-test-');
    try {
      const dir = join(workspace.dir, 'demo');
      const result = await runCli(['demo', '--dir', dir]);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(existsSync(join(dir, 'invrecon.config.json')));
      assert.ok(existsSync(join(dir, 'plan.json')));
      const diff = await runCli(['diff', '--format', 'json'], { cwd: dir });
      assert.equal(diff.code, 0, diff.stderr);
      assert.equal(JSON.parse(diff.stdout).rows.filter((r: { status: string }) => r.status === 'change').length, 0);

      const busy = join(workspace.dir, 'busy');
      mkdirSync(busy);
      writeFileSync(join(busy, 'notes.txt'), 'mine');
      const refused = await runCli(['demo', '--dir', busy]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /the folder is not empty/);
    } finally {
      workspace.cleanup();
    }
  });
});
