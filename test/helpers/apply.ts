import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readPlan } from '../../src/plan/file.js';
import type { ShopWorkspace } from './shop.js';

export interface PlanChange {
  sku: string;
  inventoryItemId: string;
  locationId: string;
  locationName: string;
  from: number;
  to: number;
}

export const levelKey = (item: string, location: string) => `${item} ${location}`;

/** The plan file's changes (read as apply reads it: the file is a JSON header and lines). */
export function readPlanChanges(dir: string, file = 'plan.json'): PlanChange[] {
  return readPlan(join(dir, file)).changes;
}

/** pull erp, pull shopify --bulk, plan --out plan.json; the plan's changes. */
export async function pullAndPlan(shop: Pick<ShopWorkspace, 'cli' | 'dir'>): Promise<PlanChange[]> {
  for (const args of [
    ['pull', 'erp'],
    ['pull', 'shopify', '--bulk'],
    ['plan', '--out', 'plan.json'],
  ]) {
    const result = await shop.cli(args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
  }
  return readPlanChanges(shop.dir);
}

/** Sets of `available` per level in the emulator's history: a level moved twice shows 2. */
export function setsPerLevel(shop: ShopWorkspace): Map<string, number> {
  const sets = new Map<string, number>();
  for (const entry of shop.emulator.state.history) {
    if (entry.kind === 'set' && entry.name === 'available')
      sets.set(levelKey(entry.inventoryItemId, entry.locationId), (sets.get(levelKey(entry.inventoryItemId, entry.locationId)) ?? 0) + 1);
  }
  return sets;
}
