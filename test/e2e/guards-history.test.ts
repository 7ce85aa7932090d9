import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { loadSeed } from '../../src/emulator/index.js';
import { openPlan } from '../../src/plan/file.js';
import { demoDir, runCli } from '../helpers/cli.js';
import { openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';
import { cliEnv, DEMO_TARGETS, demoWorkspace, runsOf, spawnEmulator, sync, type SpawnedEmulator } from './sync-helpers.js';

const editCsv = (dir: string, edit: (text: string) => string) => writeFileSync(join(dir, 'erp.csv'), edit(readFileSync(join(dir, 'erp.csv'), 'utf8')));
const editConfig = (dir: string, edit: (config: Record<string, any>) => void) => {
  const path = join(dir, 'invrecon.config.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
  edit(config);
  writeFileSync(path, JSON.stringify(config, null, 2));
};

function snapshotIds(dir: string): { snapshots: number[]; sequence: number } {
  const db = new Database(join(dir, '.invrecon', 'snapshot.db'), { readonly: true });
  try {
    return {
      snapshots: db.prepare('SELECT id FROM snapshots ORDER BY id').pluck().all() as number[],
      sequence: (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'snapshots'").pluck().get() as number | undefined) ?? 0,
    };
  } finally {
    db.close();
  }
}

describe('guards hold night after night against the last known-good baseline (sync --commit)', () => {
  let emulator: SpawnedEmulator;
  let workspace: ReturnType<typeof demoWorkspace>;
  beforeEach(async () => {
    emulator = await spawnEmulator();
    workspace = demoWorkspace();
    // Night 0: a good export is applied; it becomes the baseline.
    const good = await sync(workspace.dir, emulator.url, ['--commit']);
    assert.equal(good.code, 0, good.stderr);
  });
  afterEach(async () => {
    await emulator.stop();
    workspace.cleanup();
  });

  /** Two nights of the same bad export: both refused (exit 1, the guard named with its numbers), Shopify untouched. */
  async function refusedTwice(guard: RegExp): Promise<void> {
    const before = await emulator.levels();
    for (const night of [1, 2]) {
      const result = await sync(workspace.dir, emulator.url, ['--commit']);
      assert.equal(result.code, 1, `night ${night}: ${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /refused \(commit\)/, `night ${night}`);
      assert.match(result.stderr, guard, `night ${night}`);
      assert.doesNotMatch(result.stdout + result.stderr, /Review it, then/);
      assert.deepEqual(await emulator.levels(), before, `night ${night}: Shopify must be untouched`);
    }
    assert.deepEqual(
      runsOf(workspace.dir).map((r) => r.outcome),
      ['ok', 'refused', 'refused'],
    );
  }

  it('a renamed mapped warehouse is refused both nights; once the config maps the new code, the sync passes', async () => {
    editCsv(workspace.dir, (text) => text.replaceAll(',STORE-1,', ',STORE-01,'));
    await refusedTwice(/warehousesPresent \(value 1, limit 0\): mapped warehouse "STORE-1" had rows in the ERP snapshot of the last applied plan \(#1\)/);
    // The plan command says the same, exit 1 even with --detailed-exitcode (2 means "changes", not "refused").
    const plan = await runCli(['plan', '--detailed-exitcode'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
    assert.equal(plan.code, 1, plan.stderr);
    assert.match(plan.stderr, /plan: a guard refused the plan[\s\S]*warehousesPresent \(value 1, limit 0\)/);
    assert.match(plan.stdout, /NOT applyable[\s\S]*for review; apply refuses it/);
    assert.doesNotMatch(plan.stdout, /Review it, then/);

    editConfig(workspace.dir, (config) => (config.locations[1].warehouses = ['STORE-01']));
    const mapped = await sync(workspace.dir, emulator.url, ['--commit', '--format', 'json']);
    assert.equal(mapped.code, 0, mapped.stderr);
    const summary = JSON.parse(mapped.stdout);
    assert.equal(summary.outcome, 'ok');
    assert.equal(summary.drifting, 0);
    const levels = await emulator.levels();
    for (const [level, target] of Object.entries(DEMO_TARGETS)) assert.equal(levels.get(level), target, level);
  });

  it('a truncated export is refused both nights (the second compares with the applied baseline); the fixed export passes', async () => {
    const full = readFileSync(join(workspace.dir, 'erp.csv'), 'utf8');
    editCsv(workspace.dir, (text) => text.split('\n').slice(0, 4).join('\n') + '\n');
    await refusedTwice(/maxRowDrop \(value 0\.7857, limit 0\.5\): ERP rows 14 in the ERP snapshot of the last applied plan \(#1\) → 3/);
    // The plan of the refused night is recorded as not applyable, and apply refuses it with the guard's numbers.
    const planFile = runsOf(workspace.dir).at(-1)!.summary.planFile as string;
    const apply = await runCli(['apply', planFile, '--commit'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
    assert.equal(apply.code, 1);
    assert.match(apply.stderr, /apply: a guard refused the plan[\s\S]*maxRowDrop \(value 0\.7857, limit 0\.5\)/);

    writeFileSync(join(workspace.dir, 'erp.csv'), full);
    const fixed = await sync(workspace.dir, emulator.url, ['--commit', '--format', 'json']);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(JSON.parse(fixed.stdout).outcome, 'ok');
  });

  it('--force once applies the bad export, recorded in the plan and the run; it is then the baseline', async () => {
    editCsv(workspace.dir, (text) => text.split('\n').slice(0, 4).join('\n') + '\n');
    assert.equal((await sync(workspace.dir, emulator.url, ['--commit'])).code, 1);
    const forced = await sync(workspace.dir, emulator.url, ['--commit', '--force', '--format', 'json']);
    assert.equal(forced.code, 0, forced.stderr);
    const summary = JSON.parse(forced.stdout);
    assert.deepEqual([summary.guards.applyable, summary.guards.forced], [true, true]);
    assert.equal(openPlan(summary.planFile).header.guards.forced, true);
    assert.ok(summary.applied > 0);
    // The next night compares with the forced export, which a person accepted.
    const next = await sync(workspace.dir, emulator.url, ['--commit', '--format', 'json']);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(JSON.parse(next.stdout).guards.checks.find((c: { name: string }) => c.name === 'maxRowDrop').ok, true);
  });
});

describe('a SKU the ERP export dropped is named in the plan', () => {
  let shop: ShopWorkspace;
  beforeEach(async () => {
    shop = await openShopWorkspace({ seed: loadSeed(join(demoDir, 'shop.json')), demo: true });
  });
  afterEach(() => shop.close());

  it('with what unknownSkus does with its Shopify levels', async () => {
    for (const args of [['pull', 'erp'], ['pull', 'shopify'], ['plan']]) assert.equal((await shop.cli(args)).code, 0);
    // MUG-WHT leaves the export (both its rows).
    editCsv(shop.dir, (text) =>
      text
        .split('\n')
        .filter((line) => !line.startsWith('MUG-WHT,'))
        .join('\n'),
    );
    assert.equal((await shop.cli(['pull', 'erp'])).code, 0);
    const plan = await shop.cli(['plan', '--format', 'json']);
    const issue =
      /^1 SKU of ERP snapshot #1 is not in this export: "MUG-WHT"; unknownSkus "report" reports their Shopify levels as not-in-erp and leaves them as they are$/;
    assert.ok(
      JSON.parse(plan.stdout).issues.some((text: string) => issue.test(text)),
      plan.stdout,
    );
    editConfig(shop.dir, (config) => (config.unknownSkus = 'ignore'));
    const text = await shop.cli(['plan']);
    assert.match(
      text.stdout,
      /! 1 SKU of ERP snapshot #1 is not in this export: "MUG-WHT"; unknownSkus "ignore" leaves their Shopify levels as they are \(not compared\)/,
    );
  });
});

describe('history that stays whole: prune and snapshot ids', () => {
  let shop: ShopWorkspace;
  beforeEach(async () => {
    shop = await openShopWorkspace({ seed: loadSeed(join(demoDir, 'shop.json')), demo: true });
  });
  afterEach(() => shop.close());

  const ok = async (args: string[]) => {
    const result = await shop.cli(args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result;
  };

  it('after prune, a new snapshot id is above every id ever used; plans go with their snapshots; --keep 0 needs --force', async () => {
    for (let i = 0; i < 3; i++) await ok(['pull', 'erp']);
    await ok(['pull', 'shopify']);
    await ok(['plan']);
    await ok(['pull', 'shopify']);
    const applied = JSON.parse((await ok(['plan', '--format', 'json'])).stdout);
    await ok(['apply', applied.planFile, '--commit']);
    await ok(['pull', 'erp']);
    const before = snapshotIds(shop.dir);
    assert.deepEqual(before.snapshots, [1, 2, 3, 4, 5, 6]);
    const plansDir = join(shop.dir, '.invrecon', 'plans');
    assert.equal(readdirSync(plansDir).length, 2);

    const refused = await shop.cli(['prune', '--keep', '0']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--keep 0 would leave no snapshot .* add --force/);

    const dry = JSON.parse((await ok(['prune', '--keep', '0', '--force', '--dry-run', '--format', 'json'])).stdout);
    assert.equal(dry.dryRun, true);
    // The applied plan's snapshots (ERP #3, Shopify #5) are the guards' baseline and the hybrid base: kept.
    assert.deepEqual(dry.removed, [1, 2, 4, 6]);
    assert.deepEqual(
      dry.protected.map((p: { id: number }) => p.id),
      [3, 5],
    );
    assert.match(dry.protected[0].reasons.join(), /known-good baseline/);
    assert.equal(dry.planFiles.length, 1);
    assert.deepEqual(snapshotIds(shop.dir).snapshots, before.snapshots, 'a dry run removes nothing');
    assert.equal(readdirSync(plansDir).length, 2);

    const pruned = await ok(['prune', '--keep', '0', '--force']);
    assert.match(pruned.stdout, /Removed 4 snapshots \(1, 2, 4, 6\); 2 kept\./);
    assert.match(pruned.stdout, /Kept #3: the guards' known-good baseline/);
    assert.deepEqual(snapshotIds(shop.dir).snapshots, [3, 5]);
    // The plan made from the removed Shopify snapshot #4 went with it; the applied one stays.
    assert.deepEqual(readdirSync(plansDir), [applied.planFile.split('/').at(-1)]);

    // Ids are never reused: the next snapshot is #7, above #6, which is gone.
    const pulled = JSON.parse((await ok(['pull', 'erp', '--format', 'json'])).stdout);
    assert.equal(pulled.snapshotId, 7);
    assert.ok(pulled.snapshotId > Math.max(...before.snapshots));
    const again = JSON.parse((await ok(['pull', 'shopify', '--format', 'json'])).stdout);
    assert.equal(again.snapshotId, 8);
  });

  it('a plan whose snapshot was pruned is refused by apply, not applied against another snapshot', async () => {
    await ok(['pull', 'erp']);
    await ok(['pull', 'shopify']);
    await ok(['plan', '--out', 'old-plan.json']);
    copyFileSync(join(shop.dir, 'old-plan.json'), join(shop.dir, 'copy-of-old-plan.json'));
    await ok(['pull', 'erp']);
    await ok(['pull', 'shopify']);
    // A newer plan that passes the guards: the older export is no longer the baseline.
    await ok(['plan']);
    // The old plan was written with --out: prune removes that file too, as it still holds that plan.
    const pruned = JSON.parse((await ok(['prune', '--keep', '1', '--format', 'json'])).stdout);
    assert.deepEqual(pruned.removed, [1, 2]);
    assert.deepEqual(pruned.planFiles, [join(shop.dir, 'old-plan.json')]);
    assert.equal(existsSync(join(shop.dir, 'old-plan.json')), false);
    // A copy kept elsewhere is refused: its snapshots are gone, and no other snapshot takes their ids.
    const history = shop.emulator.state.history.length;
    const applied = await shop.cli(['apply', 'copy-of-old-plan.json', '--commit']);
    assert.equal(applied.code, 1);
    assert.match(applied.stderr, /baseline erp snapshot #1 does not exist/);
    assert.equal(shop.emulator.state.history.length, history);
  });
});
