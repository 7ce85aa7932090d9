import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { readPlanChanges, setsPerLevel } from '../helpers/apply.js';
import { binPath, runCli, tempDir } from '../helpers/cli.js';
import { TEST_TOKEN, generateShop, generatedFiles, openShopWorkspace } from '../helpers/shop.js';

/** One shop (install A, in the workspace) and a second install B in its own folder with the same files. */
async function twoInstalls(items: number, seed: number) {
  const generated = generateShop(items, 1, seed);
  const shop = await openShopWorkspace({ seed: generated.seed, files: generatedFiles(generated) });
  const other = tempDir('invrecon-install-b-');
  for (const [name, text] of Object.entries(generatedFiles(generated))) writeFileSync(join(other.dir, name), text);
  const env = { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url };
  const cliB = (args: string[]) => runCli(args, { cwd: other.dir, env });
  return { shop, other, env, cliB };
}

/**
 * Until every apply in the shop's record has reached its finish: an apply promises it a few seconds ahead, and
 * another install's snapshot read before then is refused.
 */
async function pastTheirFinish(shop: { emulator: { state: { metafield(namespace: string, key: string): { value: string } | undefined } } }) {
  const value = shop.emulator.state.metafield('$app:invrecon', 'applies')?.value;
  const finishes = value ? (JSON.parse(value) as { applies: { finishedAt: string | null }[] }).applies.map((a) => Date.parse(a.finishedAt ?? '')) : [];
  const wait = Math.max(0, ...finishes.filter(Number.isFinite)) - Date.now() + 5;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

describe('one shop, two installs (separate snapshot databases)', () => {
  it('the second apply is refused while the first runs and after it finished; no level moves twice', async () => {
    const { shop, other, env, cliB } = await twoInstalls(1500, 77);
    try {
      for (const args of [
        ['pull', 'erp'],
        ['pull', 'shopify', '--bulk'],
        ['plan', '--out', 'plan.json'],
      ]) {
        assert.equal((await shop.cli(args)).code, 0, `A: ${args.join(' ')}`);
        assert.equal((await cliB(args)).code, 0, `B: ${args.join(' ')}`);
      }
      const planned = readPlanChanges(shop.dir);
      assert.ok(planned.length > 1000);

      // A runs (slowly: one call at a time, each a second); B tries meanwhile.
      shop.emulator.state.setFaults({ latencyMs: 1000 });
      const from = shop.emulator.state.counters.requests;
      const a = new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [binPath, 'apply', 'plan.json', '--commit', '--max-in-flight', '1'], {
          cwd: shop.dir,
          env: { ...process.env, ...env },
          stdio: 'ignore',
        });
        child.on('close', (code) => resolve(code));
      });
      while (shop.emulator.state.counters.requests - from < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      const during = await cliB(['apply', 'plan.json', '--commit']);
      assert.equal(during.code, 1, during.stdout);
      assert.match(during.stderr, /another install of invrecon applied to this shop after this plan's Shopify snapshot was read .*, or is applying now/);
      assert.match(during.stderr, /not finished/);
      assert.equal(await a, 0);
      shop.emulator.state.setFaults({ latencyMs: 0 });

      const record = JSON.parse(shop.emulator.state.metafield('$app:invrecon', 'applies')!.value) as { applies: { finishedAt: string | null }[] };
      assert.equal(record.applies.length, 1);
      assert.ok(record.applies[0]!.finishedAt, 'A recorded its finish');

      const after = await cliB(['apply', 'plan.json', '--commit']);
      assert.equal(after.code, 1);
      assert.match(after.stderr, /another install of invrecon applied/);
      for (const change of planned) assert.equal(shop.emulator.state.level(change.inventoryItemId, change.locationId)!.available, change.to, change.sku);
      const sets = setsPerLevel(shop);
      assert.ok(
        [...sets.values()].every((n) => n === 1),
        'a level was moved twice',
      );

      // B's way on: a new snapshot (once A's finish is past) and a new plan, which A's writes left with nothing to do.
      await pastTheirFinish(shop);
      assert.equal((await cliB(['pull', 'shopify', '--bulk'])).code, 0);
      assert.equal((await cliB(['plan', '--out', 'again.json'])).code, 0);
      const again = readPlanChanges(other.dir, 'again.json');
      assert.deepEqual(again, []);
      const applied = await cliB(['apply', 'again.json', '--commit']);
      assert.equal(applied.code, 0, applied.stderr);
    } finally {
      other.cleanup();
      await shop.close();
    }
  });

  it('an install claims from its copy of the record (its pull read it) in one call; a stale copy is refused by Shopify and the record read again', async () => {
    const { shop, other, cliB } = await twoInstalls(60, 5);
    try {
      type Cli = (args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>;
      const run = async (cli: Cli, steps: string[][]) => {
        for (const args of steps) {
          const result = await cli(args);
          assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
        }
      };
      const prepare = (cli: Cli) =>
        run(cli, [
          ['pull', 'erp'],
          ['pull', 'shopify'],
          ['plan', '--out', 'plan.json'],
        ]);
      const cycle = async (cli: Cli) => {
        await prepare(cli);
        await run(cli, [['apply', 'plan.json', '--commit']]);
      };
      /** The shop-record calls of an install's latest apply, in order. */
      const recordCalls = (dir: string) => {
        const db = new Database(join(dir, '.invrecon', 'snapshot.db'), { readonly: true });
        try {
          return db
            .prepare(
              "SELECT operation FROM audit_calls WHERE operation IN ('ShopAppliesRecord', 'SetShopAppliesRecord') AND plan_digest = (SELECT plan_digest FROM applies ORDER BY started_at DESC LIMIT 1) ORDER BY id",
            )
            .pluck()
            .all() as string[];
        } finally {
          db.close();
        }
      };
      const copyIn = (dir: string) => {
        const db = new Database(join(dir, '.invrecon', 'snapshot.db'), { readonly: true });
        try {
          return db.prepare('SELECT shop, value, digest, source FROM shop_records').all() as {
            shop: string;
            value: string | null;
            digest: string | null;
            source: string;
          }[];
        } finally {
          db.close();
        }
      };
      // The shop has no record yet: the pull's copy says so, the claim writes with compareDigest null.
      await cycle(shop.cli);
      assert.deepEqual(recordCalls(shop.dir), ['SetShopAppliesRecord', 'SetShopAppliesRecord'], 'claimed and released, one call each');
      const kept = copyIn(shop.dir);
      assert.equal(kept.length, 1, 'one row per shop');
      assert.equal(kept[0]!.source, 'written');
      assert.equal(kept[0]!.digest, shop.emulator.state.metafield('$app:invrecon', 'applies')!.compareDigest, 'the copy is the record as written last');
      await cycle(shop.cli);
      assert.deepEqual(recordCalls(shop.dir), ['SetShopAppliesRecord', 'SetShopAppliesRecord']);
      // B joins: its pull read A's record, its claim is one call too.
      await pastTheirFinish(shop);
      await cycle(cliB);
      assert.deepEqual(recordCalls(other.dir), ['SetShopAppliesRecord', 'SetShopAppliesRecord']);
      // An install without a copy (a database from before the copy was kept) reads the record first.
      await pastTheirFinish(shop);
      await prepare(shop.cli);
      assert.deepEqual(
        copyIn(shop.dir).map((c) => [c.source, c.digest]),
        [['read', shop.emulator.state.metafield('$app:invrecon', 'applies')!.compareDigest]],
        'the pull keeps the record as it read it',
      );
      const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'));
      db.prepare('DELETE FROM shop_records').run();
      db.close();
      await run(shop.cli, [['apply', 'plan.json', '--commit']]);
      assert.deepEqual(recordCalls(shop.dir), ['ShopAppliesRecord', 'SetShopAppliesRecord', 'SetShopAppliesRecord']);
      // A's copy goes stale: B applies after A's pull. A's write from it is refused (compare-and-swap), A reads
      // the record, and B's apply after A's baseline makes A's plan stale: refused, nothing sent.
      await prepare(shop.cli);
      await pastTheirFinish(shop);
      await cycle(cliB);
      const levels = shop.emulator.state.counters.requests;
      const stale = await shop.cli(['apply', 'plan.json', '--commit']);
      assert.equal(stale.code, 1, stale.stdout);
      assert.match(stale.stderr, /another install of invrecon applied/);
      assert.equal(shop.emulator.state.counters.requests - levels, 2, 'the refused write and the read, nothing else');
      const record = JSON.parse(shop.emulator.state.metafield('$app:invrecon', 'applies')!.value) as {
        applies: { install: string; finishedAt: string | null }[];
      };
      assert.equal(record.applies.length, 5, "every apply of both installs is in the shop's record");
      assert.ok(record.applies.every((a) => a.finishedAt !== null));
    } finally {
      other.cleanup();
      await shop.close();
    }
  });
});
