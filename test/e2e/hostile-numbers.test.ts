// Issue 12: wrong numbers the binary must not produce (items 1, 4, 7), each reproduced as a user would.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Seed } from '../../src/emulator/index.js';
import { readPlan } from '../../src/plan/file.js';
import { writePlan } from '../../src/plan/file-writer.js';
import type { Plan } from '../../src/plan/model.js';
import { assertOneLineError } from '../helpers/errors.js';
import { openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';

const L1 = 'gid://shopify/Location/1';
const item = (n: number) => `gid://shopify/InventoryItem/${n}`;
const seedOf = (items: [string, number][]): Seed => ({
  locations: [{ id: L1, name: 'Main' }],
  items: items.map(([sku, available], i) => ({ sku, inventoryItemId: item(i + 1), levels: [{ locationId: L1, available }] })),
});
/** A workspace on the in-process emulator, closed whatever the test does. */
async function withShop(options: Parameters<typeof openShopWorkspace>[0], test: (shop: ShopWorkspace) => Promise<void>): Promise<void> {
  const shop = await openShopWorkspace(options);
  try {
    await test(shop);
  } finally {
    await shop.close();
  }
}
const configOf = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    shopify: { shop: 'x.myshopify.com' },
    erp: { csv: { path: 'erp.csv' } },
    locations: [{ warehouses: ['W'], shopifyLocation: 'Main' }],
    ...extra,
  });

describe('hybrid authority: a Shopify sale the ERP learns of is counted once (issue 12, item 1)', () => {
  it('apply, sell 1, the ERP reserves it, pull both: the target is 11, not 10, and nothing is applied', async () => {
    await withShop(
      {
        seed: seedOf([['A', 10]]),
        files: { 'invrecon.config.json': configOf({ authority: { default: 'hybrid' } }), 'erp.csv': 'sku,warehouse,on_hand,reserved\nA,W,12,0\n' },
      },
      async (shop) => {
        const run = async (args: string[]) => {
          const result = await shop.cli(args);
          assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
          return result;
        };
        await run(['pull', 'erp']);
        await run(['pull', 'shopify']);
        await run(['plan', '--out', 'p1.json']);
        await run(['apply', 'p1.json', '--commit']);
        assert.equal(shop.emulator.state.level(item(1), L1)!.available, 12);
        shop.emulator.state.sell(item(1), L1, 1);
        writeFileSync(join(shop.dir, 'erp.csv'), 'sku,warehouse,on_hand,reserved\nA,W,12,1\n');
        await run(['pull', 'erp']);
        await run(['pull', 'shopify']);
        const diff = JSON.parse((await run(['diff', '--all', '--format', 'json'])).stdout) as {
          rows: { sku: string; target: number; observed: number; status: string; reason: string }[];
        };
        assert.deepEqual(
          diff.rows.map((r) => [r.sku, r.target, r.observed, r.status]),
          [['A', 11, 11, 'ok']],
        );
        assert.match(diff.rows[0]!.reason, /hybrid: Shopify 11 \+ ERP -1 since base \+ 1 Shopify order the ERP counts too = 11/);
        await run(['plan', '--out', 'p2.json']);
        assert.deepEqual(readPlan(join(shop.dir, 'p2.json')).changes, []);
        await run(['apply', 'p2.json', '--commit']);
        assert.equal(shop.emulator.state.level(item(1), L1)!.available, 11, 'one unit sold, one unit less');
      },
    );
  });
});

describe('SKUs that look equal (issue 12, item 4)', () => {
  it('NFC and trimming match always; case, zero-padding and Excel notation are hinted and never zeroed; skuMatch case-insensitive matches case', async () => {
    await withShop(
      {
        seed: seedOf([
          ['CAF\u00c9', 3],
          ['Mixed-Case', 4],
          ['00123', 5],
          ['123000000000', 6],
        ]),
        files: {
          'invrecon.config.json': configOf({ unknownSkus: 'zero' }),
          'case.config.json': configOf({ unknownSkus: 'zero', skuMatch: 'case-insensitive' }),
          'erp.csv': 'sku,warehouse,on_hand\nCAFE\u0301 ,W,9\nmixed-case,W,8\n123,W,7\n1.23E+11,W,6\n',
        },
      },
      async (shop) => {
        for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side])).code, 0);
        const planned = await shop.cli(['plan', '--out', 'plan.json', '--format', 'json']);
        assert.equal(planned.code, 0, planned.stderr);
        const plan = readPlan(join(shop.dir, 'plan.json'));
        assert.deepEqual(
          plan.changes.map((c) => [c.sku, c.from, c.to]),
          [['CAF\u00c9', 3, 9]],
          'only the NFC match changes; nothing is zeroed',
        );
        assert.ok(
          plan.issues.some((i) => /ERP SKU "mixed-case" and Shopify SKU "Mixed-Case" differ only by letter case/.test(i)),
          plan.issues.join('\n'),
        );
        assert.ok(plan.issues.some((i) => /ERP SKU "123" and Shopify SKU "00123" differ only by leading zeros/.test(i)));
        assert.ok(
          plan.issues.some((i) => /ERP SKU "1\.23E\+11" and Shopify SKU "123000000000" are the same number, one in Excel's scientific notation/.test(i)),
        );
        const diff = await shop.cli(['diff']);
        assert.match(diff.stdout + diff.stderr, /differ only by letter case/);

        const cased = await shop.cli(['plan', '--config', 'case.config.json', '--out', 'cased.json', '--format', 'json']);
        assert.equal(cased.code, 0, cased.stderr);
        const casedPlan = readPlan(join(shop.dir, 'cased.json'));
        assert.deepEqual(
          casedPlan.changes.map((c) => [c.sku, c.from, c.to]),
          [
            ['CAF\u00c9', 3, 9],
            ['mixed-case', 4, 8],
          ],
        );
      },
    );
  });
});

describe('false green (issue 12, item 7)', () => {
  it('a mapping that matches no Shopify location, or a shop with no levels there, fails diff, plan and sync', async () => {
    const renamed = await openShopWorkspace({
      seed: seedOf([['A', 1]]),
      files: {
        'invrecon.config.json': JSON.stringify({
          shopify: { shop: 'x.myshopify.com' },
          erp: { csv: { path: 'erp.csv' } },
          locations: [{ warehouses: ['W'], shopifyLocation: 'Old Name' }],
        }),
        'erp.csv': 'sku,warehouse,on_hand\nA,W,5\n',
      },
    });
    const empty = await openShopWorkspace({ seed: seedOf([]), files: { 'invrecon.config.json': configOf(), 'erp.csv': 'sku,warehouse,on_hand\nA,W,5\n' } });
    try {
      for (const [shop, message] of [
        [renamed, /no entry of locations matches a Shopify location of snapshot #\d+ \(Shopify has: "Main"\); nothing to compare/],
        [empty, /Shopify snapshot #\d+ has no inventory levels at any mapped location \("Main"\): an empty shop, or the wrong shop/],
      ] as const) {
        for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side])).code, 0);
        assertOneLineError(await shop.cli(['diff', '--detailed-exitcode']), message);
        assertOneLineError(await shop.cli(['plan', '--detailed-exitcode']), message);
        const sync = await shop.cli(['sync', '--commit']);
        assert.equal(sync.code, 1, sync.stdout + sync.stderr);
        assert.match(sync.stdout + sync.stderr, message);
        assert.match(sync.stdout + sync.stderr, /sync #\d+ error/);
      }
    } finally {
      await renamed.close();
      await empty.close();
    }
  });
});

describe('plans verified at apply (issue 12, item 8)', () => {
  it('an edited plan with a recomputed digest, or made-up baseline ids and hashes, is refused; --unverified applies it and is recorded', async () => {
    await withShop(
      {
        seed: seedOf([
          ['A', 2],
          ['B', 3],
        ]),
        files: { 'invrecon.config.json': configOf(), 'erp.csv': 'sku,warehouse,on_hand\nA,W,5\nB,W,6\n' },
      },
      async (shop) => {
        for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side])).code, 0);
        assert.equal((await shop.cli(['plan', '--out', 'plan.json'])).code, 0);
        const original = readPlan(join(shop.dir, 'plan.json'));
        const forge = (name: string, edit: (plan: Plan) => void) => {
          const plan = structuredClone(original);
          edit(plan);
          // writePlan recomputes the rows' hash and the digest, as a forger would.
          writePlan(join(shop.dir, name), plan);
          return name;
        };
        const edited = forge('edited.json', (p) => {
          p.changes[0]!.to = 999;
          p.changes[0]!.delta = 999 - p.changes[0]!.from;
        });
        const madeUp = forge('made-up.json', (p) => {
          p.baseline.erp.snapshotId = 77;
          p.baseline.shopify.contentHash = 'f'.repeat(64);
        });
        const history = shop.emulator.state.history.length;
        for (const args of [
          ['apply', edited],
          ['apply', edited, '--commit'],
        ]) {
          assertOneLineError(await shop.cli(args), /the plan is not what "invrecon plan" gives for its baseline snapshots \(1 difference\)/);
        }
        const refused = await shop.cli(['apply', edited, '--commit']);
        assert.match(refused.stderr, /A at Main: the plan has 2 → 999 \(set, gid:\/\/shopify\/InventoryItem\/1\), its baseline gives 2 → 5/);
        const fake = await shop.cli(['apply', madeUp, '--commit']);
        assert.equal(fake.code, 1);
        assert.match(fake.stderr, /baseline erp snapshot #77 does not exist/);
        assert.equal(shop.emulator.state.history.length, history, 'nothing was sent');
        // The plan as written by "invrecon plan" verifies.
        const honest = await shop.cli(['apply', 'plan.json']);
        assert.equal(honest.code, 0, honest.stderr);

        const forced = await shop.cli(['apply', edited, '--commit', '--unverified']);
        assert.equal(forced.code, 0, forced.stderr);
        assert.match(forced.stderr, /warning: applying an unverified plan \(--unverified, recorded\): 1 difference/);
        assert.equal(shop.emulator.state.level(item(1), L1)!.available, 999);
        const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'), { readonly: true });
        try {
          const recorded = db.prepare('SELECT plan_digest, mismatches FROM plan_verifications').all() as { plan_digest: string; mismatches: string }[];
          assert.equal(recorded.length, 1);
          assert.match(recorded[0]!.mismatches, /2 → 999/);
        } finally {
          db.close();
        }
      },
    );
  });
});

describe('re-applying a finished plan from a fresh database (issue 12, item 10)', () => {
  it('is refused before anything is sent: no "Applied 7", no audit rows for a replay that changed nothing', async () => {
    await withShop(
      {
        seed: seedOf([
          ['A', 2],
          ['B', 3],
        ]),
        files: {
          'invrecon.config.json': configOf(),
          'fresh.config.json': configOf({ snapshot: { path: 'fresh.db' } }),
          'erp.csv': 'sku,warehouse,on_hand\nA,W,5\nB,W,6\n',
        },
      },
      async (shop) => {
        for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side])).code, 0);
        assert.equal((await shop.cli(['plan', '--out', 'plan.json'])).code, 0);
        const first = await shop.cli(['apply', 'plan.json', '--commit']);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /Applied 2/);
        const history = shop.emulator.state.history.length;
        for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side, '--config', 'fresh.config.json'])).code, 0);
        const again = await shop.cli(['apply', 'plan.json', '--commit', '--config', 'fresh.config.json']);
        assertOneLineError(again, /the plan is not what "invrecon plan" gives for its baseline snapshots/);
        assert.match(again.stderr, /baseline shopify snapshot #2 has content hash/);
        assert.doesNotMatch(again.stdout, /Applied/);
        assert.equal(shop.emulator.state.history.length, history, 'nothing sent');
        const db = new Database(join(shop.dir, 'fresh.db'), { readonly: true });
        try {
          assert.equal(db.prepare('SELECT COUNT(*) FROM audit_changes').pluck().get(), 0);
        } finally {
          db.close();
        }
      },
    );
  });
});

describe("apply --unverified from a fresh database: Shopify replays the first run's answer", () => {
  it('the replayed rows are reported as applied earlier by another run, not as applied now; nothing moves', async () => {
    await withShop(
      {
        seed: seedOf([
          ['A', 2],
          ['B', 3],
          ['C', 4],
        ]),
        files: {
          'invrecon.config.json': configOf(),
          'fresh.config.json': configOf({ snapshot: { path: 'fresh/snapshot.db' } }),
          'fresh2.config.json': configOf({ snapshot: { path: 'fresh2/snapshot.db' } }),
          // C is already right: two changes.
          'erp.csv': 'sku,warehouse,on_hand\nA,W,5\nB,W,6\nC,W,4\n',
        },
      },
      async (shop) => {
        for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side])).code, 0);
        assert.equal((await shop.cli(['plan', '--out', 'plan.json'])).code, 0);
        const first = await shop.cli(['apply', 'plan.json', '--commit']);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /^Applied 2, /m);
        const history = shop.emulator.state.history.length;
        // A replay is told by Shopify's time of the adjustment group: over a second before this run claimed the shop.
        await new Promise((resolve) => setTimeout(resolve, 1100));

        // The database that applied it is gone; a fresh one pulls and applies the same plan file anyway.
        for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side, '--config', 'fresh.config.json'])).code, 0);
        const again = await shop.cli(['apply', 'plan.json', '--commit', '--unverified', '--config', 'fresh.config.json']);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /^Applied 0, carried forward 0, skipped 0, conflicts 0, unresolved 0, failed 0 /m);
        assert.match(
          again.stdout,
          /^2 levels had been applied earlier by another run of this plan \(another install, or a database since lost\): Shopify replayed that run's answer to the same idempotency key; not counted as applied by this run\.$/m,
        );
        assert.equal(shop.emulator.state.history.length, history, 'nothing moved');
        assert.ok(shop.emulator.state.counters.idempotentReplays >= 1);
        assert.deepEqual([shop.emulator.state.level(item(1), L1)!.available, shop.emulator.state.level(item(2), L1)!.available], [5, 6]);
        // The audit log of the fresh database says what happened to each level.
        const log = JSON.parse((await shop.cli(['log', '--format', 'json', '--config', 'fresh.config.json'])).stdout);
        assert.deepEqual(
          log.changes.map((c: { sku: string; before: number; after: number; outcome: string }) => [c.sku, c.before, c.after, c.outcome]).sort(),
          [
            ['A', 2, 5, 'replayed'],
            ['B', 3, 6, 'replayed'],
          ],
        );
        assert.ok(log.calls.some((c: { detail: string | null }) => /2 applied earlier under this key \(a replayed answer\)/.test(c.detail ?? '')));

        for (const side of ['erp', 'shopify']) assert.equal((await shop.cli(['pull', side, '--config', 'fresh2.config.json'])).code, 0);
        const json = await shop.cli(['apply', 'plan.json', '--commit', '--unverified', '--format', 'json', '--config', 'fresh2.config.json']);
        assert.equal(json.code, 0, json.stderr);
        const result = JSON.parse(json.stdout);
        assert.deepEqual([result.applied, result.replayed, result.skipped, result.failed], [0, 2, 0, 0]);
        assert.equal(shop.emulator.state.history.length, history, 'still nothing moved');
      },
    );
  });
});
