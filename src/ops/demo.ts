import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { loadSeed, startEmulator } from '../emulator/index.js';
import { applyPlan, type ApplyResult } from '../plan/apply.js';
import { buildPlan, recordBuiltPlan } from '../plan/build.js';
import { readPlan } from '../plan/file.js';
import { planSource } from '../plan/verify.js';
import type { Plan } from '../plan/model.js';
import { fixturesDir, packageRoot } from '../paths.js';
import { computeDiff, type DiffResult } from '../reconcile/diff.js';
import { registerSecret, TOKEN_ENV } from '../secrets.js';
import type { ErpPullResult } from '../sources/erp/ingest.js';
import { pullErp } from '../sources/erp/pull.js';
import { ENDPOINT_ENV } from '../sources/shopify/endpoint.js';
import { pullShopify, type ShopifyPullResult } from '../sources/shopify/pull.js';
import { openDb } from '../store/db.js';

export const DEMO_FIXTURE = join(fixturesDir, 'demo');
const DEMO_FILES = ['invrecon.config.json', 'erp.csv', 'bundles.csv'];

export type DemoStep =
  | { kind: 'setup'; dir: string; emulatorUrl: string; files: string[] }
  | { kind: 'pull-erp'; result: ErpPullResult }
  | { kind: 'pull-shopify'; result: ShopifyPullResult; again: boolean }
  | { kind: 'diff'; result: DiffResult; again: boolean }
  | { kind: 'plan'; plan: Plan; planFile: string }
  | { kind: 'apply'; result: ApplyResult };

export interface DemoOutcome {
  dir: string;
  kept: boolean;
  /** Levels Shopify still has to change after the loop: 0 when the demo did its job. */
  shopifyDrift: number;
  /** Levels where Shopify is the authority: the ERP should change, not Shopify. */
  erpCorrections: { sku: string; locationName: string; delta: number }[];
  /** Rows reported but not drift (not in Shopify, not stocked, not in the ERP, ...), by status. */
  reported: Record<string, number>;
  final: DiffResult;
}

/** The folder the demo writes into: a given one (must be empty or new, kept) or a fresh temporary one. */
function prepareDir(dir: string | undefined): { dir: string; given: boolean } {
  if (!dir) return { dir: mkdtempSync(join(tmpdir(), 'invrecon-demo-')), given: false };
  const path = resolve(dir);
  if (existsSync(path) && readdirSync(path).length > 0)
    throw new UsageError(`--dir ${path}: the folder is not empty; give a new or empty folder (the demo writes a config, an ERP export and a snapshot there)`);
  mkdirSync(path, { recursive: true });
  return { dir: path, given: true };
}

/**
 * The whole loop on the bundled demo shop, with no setup: an in-process emulator, a config in a folder,
 * then pull erp → pull shopify → diff → plan → apply --commit → pull shopify → diff. Each step is handed
 * to `onStep` as it completes.
 */
export async function runDemo(options: { dir?: string; keep?: boolean; onStep: (step: DemoStep) => void }): Promise<DemoOutcome> {
  const { dir, given } = prepareDir(options.dir);
  const keep = given || Boolean(options.keep);
  // A token for this run only: the emulator accepts nothing else, and it is never printed.
  const token = `demo-${randomBytes(12).toString('hex')}`;
  registerSecret(token);
  const emulator = await startEmulator({ seed: loadSeed(join(DEMO_FIXTURE, 'shop.json')), port: 0, token });
  try {
    for (const file of DEMO_FILES) copyFileSync(join(DEMO_FIXTURE, file), join(dir, file));
    // Point $schema at the installed schema so editors still validate the copied config.
    const configPath = join(dir, 'invrecon.config.json');
    const raw = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    raw.$schema = relative(dir, join(packageRoot, 'schema', 'invrecon.config.schema.json'));
    writeFileSync(configPath, JSON.stringify(raw, null, 2) + '\n');
    options.onStep({ kind: 'setup', dir, emulatorUrl: emulator.url, files: DEMO_FILES });

    const env = { ...process.env, [TOKEN_ENV]: token, [ENDPOINT_ENV]: emulator.url };
    const config = loadConfig(configPath);
    const db = openDb(config.snapshot.path);
    try {
      options.onStep({ kind: 'pull-erp', result: await pullErp(db, config) });
      options.onStep({ kind: 'pull-shopify', result: await pullShopify(db, config, { clientOptions: { env } }), again: false });
      options.onStep({ kind: 'diff', result: computeDiff(db, config, {}), again: false });
      const planFile = join(dir, 'plan.json');
      const built = buildPlan(db, config, {}, { out: planFile });
      recordBuiltPlan(db, built.header, built.path);
      const plan = readPlan(planFile);
      options.onStep({ kind: 'plan', plan, planFile });
      options.onStep({ kind: 'apply', result: await applyPlan(db, config, planSource(plan), { commit: true, planPath: planFile, clientOptions: { env } }) });
      options.onStep({ kind: 'pull-shopify', result: await pullShopify(db, config, { clientOptions: { env } }), again: true });
      const final = computeDiff(db, config, {});
      options.onStep({ kind: 'diff', result: final, again: true });
      const reported: Record<string, number> = {};
      for (const [status, count] of Object.entries(final.summary.reported)) if (count > 0 && status !== 'erp-correction') reported[status] = count;
      return {
        dir,
        kept: keep,
        shopifyDrift: final.summary.levelsDrifting,
        erpCorrections: final.rows
          .filter((row) => row.status === 'erp-correction')
          .map((row) => ({ sku: row.sku, locationName: row.locationName, delta: row.delta ?? 0 })),
        reported,
        final,
      };
    } finally {
      db.close();
    }
  } finally {
    await emulator.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
