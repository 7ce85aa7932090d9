import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { openPlan } from '../plan/file.js';
import { isDefaultPlanName, plansDir } from '../plan/files.js';
import type { Db } from '../store/db.js';
import { pruneSnapshots, selectPrune, type PruneSelection } from '../store/snapshot-prune.js';
import { getSnapshot } from '../store/snapshots.js';

export interface PruneResult extends PruneSelection {
  dryRun: boolean;
  /** Plan files removed (or, in a dry run, that would be). */
  planFiles: string[];
}

/** The baseline snapshot ids and hashes a plan file names (from its header only), or undefined for a file that is not a readable plan. */
function planFileBaseline(path: string): { erp: { id: number; hash: string }; shopify: { id: number; hash: string } } | undefined {
  try {
    const { baseline } = openPlan(path).header;
    return {
      erp: { id: baseline.erp.snapshotId, hash: baseline.erp.contentHash },
      shopify: { id: baseline.shopify.snapshotId, hash: baseline.shopify.contentHash },
    };
  } catch {
    // An older format or a damaged file: not ours to judge.
    return undefined;
  }
}

/** Whether this file still holds this plan (a path may have been reused for another plan since). */
function holdsPlan(path: string, digest: string): boolean {
  if (!existsSync(path)) return false;
  if (isDefaultPlanName(path)) return path.endsWith(`plan-${digest.slice(0, 12)}.json`);
  return readFileSync(path, 'utf8').includes(`"digest": "${digest}"`);
}

/**
 * Plan files that go with the pruned snapshots: the recorded ones that still hold their plan, and files
 * in the plans folder (older, unrecorded ones too) whose baseline snapshot is removed or gone.
 */
function planFilesToRemove(db: Db, config: LoadedConfig, selection: PruneSelection): string[] {
  const files = new Set(selection.plans.filter((p) => holdsPlan(p.path, p.digest)).map((p) => p.path));
  const removed = new Set(selection.snapshots.map((s) => s.id));
  const dir = plansDir(config.snapshot.path);
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!isDefaultPlanName(path) || files.has(path)) continue;
      const baseline = planFileBaseline(path);
      if (!baseline) continue;
      const gone = [baseline.erp, baseline.shopify].some((ref) => removed.has(ref.id) || getSnapshot(db, ref.id)?.contentHash !== ref.hash);
      if (gone) files.add(path);
    }
  }
  return [...files].sort();
}

/**
 * Drops old snapshots, keeping the newest `keep` of each side and every snapshot something still refers
 * to; the plans made from the dropped ones go with them (records and files). `keep` 0 needs `force`.
 */
export function prune(db: Db, config: LoadedConfig, options: { keep: number; dryRun?: boolean; force?: boolean }): PruneResult {
  if (options.keep === 0 && !options.force) {
    throw new UsageError(
      'prune --keep 0 would leave no snapshot to compare the next export with; add --force if that is what you want (snapshots still referred to are kept either way)',
    );
  }
  const selection = selectPrune(db, options.keep);
  const planFiles = planFilesToRemove(db, config, selection);
  if (!options.dryRun) {
    pruneSnapshots(db, selection);
    // Files after the commit: a plan file left behind by a crash here refers to a snapshot that is gone, and apply refuses it.
    for (const file of planFiles) rmSync(file, { force: true });
  }
  return { ...selection, dryRun: Boolean(options.dryRun), planFiles };
}
