import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loadConfig } from '../../../src/config/load.js';
import { loadSeed, startEmulator } from '../../../src/emulator/index.js';
import { InvreconError } from '../../../src/errors.js';
import { applyRecorded } from '../../../src/ops/apply-run.js';
import { prune } from '../../../src/ops/prune.js';
import { buildPlan, recordBuiltPlan } from '../../../src/plan/build.js';
import { openPlan } from '../../../src/plan/file.js';
import { plansDir } from '../../../src/plan/files.js';
import type { PlanHeader } from '../../../src/plan/model.js';
import { pullErp } from '../../../src/sources/erp/pull.js';
import { pullShopify } from '../../../src/sources/shopify/pull.js';
import { openDb } from '../../../src/store/db.js';
import { listPlans } from '../../../src/store/plans.js';
import { getSnapshot } from '../../../src/store/snapshots.js';
import { demoDir, tempDir } from '../../helpers/cli.js';

type Step =
  | { kind: 'pull-erp'; keep: boolean[] }
  | { kind: 'pull-shopify' }
  | { kind: 'plan'; force: boolean }
  | { kind: 'apply' }
  | { kind: 'prune'; keep: number; dryRun: boolean };

const DEMO_ROWS = readFileSync(join(demoDir, 'erp.csv'), 'utf8').trim().split('\n');

const step: fc.Arbitrary<Step> = fc.oneof(
  // Random exports: the full one, or rows left out (truncated, a warehouse gone): guards refuse some plans.
  fc.record({
    kind: fc.constant('pull-erp' as const),
    keep: fc.oneof(
      fc.constant(DEMO_ROWS.slice(1).map(() => true)),
      fc.array(
        fc.integer({ min: 0, max: 4 }).map((x) => x > 0),
        { minLength: DEMO_ROWS.length - 1, maxLength: DEMO_ROWS.length - 1 },
      ),
    ),
  }),
  fc.constant({ kind: 'pull-shopify' as const }),
  fc.record({ kind: fc.constant('plan' as const), force: fc.boolean() }),
  fc.constant({ kind: 'apply' as const }),
  fc.record({ kind: fc.constant('prune' as const), keep: fc.integer({ min: 0, max: 2 }), dryRun: fc.boolean() }),
);

describe('history (property): random pulls, plans, applies and prunes', () => {
  it('no plan ever refers to a missing or reused snapshot, and no snapshot id is ever used twice', async (t) => {
    const seen = { applied: 0, refused: 0, prunedSnapshots: 0, prunedPlans: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 14 }), async (steps) => {
        const workspace = tempDir('invrecon-history-');
        const token = 'shpat_history_property_token';
        const emulator = await startEmulator({ seed: loadSeed(join(demoDir, 'shop.json')), port: 0, token });
        for (const file of ['invrecon.config.json', 'bundles.csv']) cpSync(join(demoDir, file), join(workspace.dir, file));
        const config = loadConfig(join(workspace.dir, 'invrecon.config.json'));
        const db = openDb(config.snapshot.path);
        const env = { SHOPIFY_ADMIN_TOKEN: token, INVRECON_SHOPIFY_ENDPOINT: emulator.url };
        // Every snapshot ever taken, by id: its content hash. A reused id would map to another hash.
        const taken = new Map<number, string>();
        const plans: { plan: PlanHeader; path: string }[] = [];
        let n = 0;
        try {
          for (const s of steps) {
            const newSnapshot = (id: number, hash: string) => {
              assert.ok(id > Math.max(0, ...taken.keys()), `snapshot #${id} is not above every id used before (${[...taken.keys()].join(', ')})`);
              taken.set(id, hash);
            };
            if (s.kind === 'pull-erp') {
              const csv = join(workspace.dir, `erp-${n++}.csv`);
              writeFileSync(csv, [DEMO_ROWS[0], ...DEMO_ROWS.slice(1).filter((_, i) => s.keep[i])].join('\n') + '\n');
              const pulled = await pullErp(db, config, { csvPath: csv });
              newSnapshot(pulled.snapshot.id, pulled.snapshot.contentHash);
            } else if (s.kind === 'pull-shopify') {
              const pulled = await pullShopify(db, config, { clientOptions: { env } });
              newSnapshot(pulled.snapshot.id, pulled.snapshot.contentHash);
            } else if (s.kind === 'plan') {
              try {
                const built = buildPlan(db, config, { force: s.force });
                recordBuiltPlan(db, built.header, built.path);
                plans.push({ plan: built.header, path: built.path });
              } catch (error) {
                // No snapshot of one side yet.
                if (!(error instanceof InvreconError)) throw error;
              }
            } else if (s.kind === 'apply') {
              const last = plans.at(-1);
              if (last) {
                try {
                  // A plan file pruned with its snapshots cannot be read: refused like the rest.
                  await applyRecorded(db, config, openPlan(last.path), { commit: true, planPath: last.path, clientOptions: { env } });
                  seen.applied++;
                } catch (error) {
                  seen.refused++;
                  // Refused (guards), stale, or made from a pruned snapshot: refused, never applied elsewhere.
                  if (!(error instanceof InvreconError)) throw error;
                }
              }
            } else {
              const pruned = prune(db, config, { keep: s.keep, dryRun: s.dryRun, force: true });
              if (!s.dryRun) {
                seen.prunedSnapshots += pruned.snapshots.length;
                seen.prunedPlans += pruned.plans.length;
              }
            }

            // Every recorded plan refers to snapshots that exist and are the ones it was made from.
            for (const record of listPlans(db)) {
              for (const id of [record.erpSnapshotId, record.shopifySnapshotId]) {
                const snapshot = getSnapshot(db, id);
                assert.ok(snapshot, `plan ${record.digest.slice(0, 12)} refers to missing snapshot #${id}`);
                assert.equal(snapshot.contentHash, taken.get(id), `snapshot #${id} was reused`);
              }
            }
            // Every plan file left on disk still has its snapshots.
            const dir = plansDir(config.snapshot.path);
            const files = existsSync(dir) ? readdirSync(dir) : [];
            for (const { plan, path } of plans) {
              if (!files.includes(path.split('/').at(-1)!)) continue;
              for (const ref of [plan.baseline.erp, plan.baseline.shopify]) {
                assert.equal(
                  getSnapshot(db, ref.snapshotId)?.contentHash,
                  ref.contentHash,
                  `plan file ${path} refers to snapshot #${ref.snapshotId}, gone or reused`,
                );
              }
            }
            // The hybrid base and the guards' baseline are never pruned away.
            const bases = db.prepare('SELECT DISTINCT erp_snapshot_id AS erp, shopify_snapshot_id AS shopify FROM reconciled_levels').all() as {
              erp: number;
              shopify: number;
            }[];
            for (const base of bases)
              for (const id of [base.erp, base.shopify]) assert.ok(getSnapshot(db, id), `the reconciled base refers to missing snapshot #${id}`);
          }
        } finally {
          db.close();
          await emulator.close();
          workspace.cleanup();
        }
      }),
      { numRuns: 25 },
    );
    t.diagnostic(`applied ${seen.applied}, refused ${seen.refused}, pruned ${seen.prunedSnapshots} snapshots and ${seen.prunedPlans} plans`);
  });
});
