import { basename, dirname, join } from 'node:path';

/** Where plans go by default: plans/ beside the snapshot database. */
export function plansDir(snapshotPath: string): string {
  return join(dirname(snapshotPath), 'plans');
}

/** A file named as invrecon names its plans (plan-<digest prefix>.json). */
export function isDefaultPlanName(path: string): boolean {
  return /^plan-[0-9a-f]{12}\.json$/.test(basename(path));
}
