// The diff's data: a row per level with the rule that decided, and the summary.
import type { Authority } from '../config/schema.js';
import { type SnapshotInfo } from '../store/snapshots.js';
import { type SafetySource } from './rules.js';

export type RowStatus =
  'ok' | 'change' | 'erp-correction' | 'conflict' | 'not-in-shopify' | 'not-stocked' | 'not-in-erp' | 'ambiguous-sku' | 'untracked' | 'inactive-location';

/**
 * Levels Shopify has but does not count, left out of plans (never written, never drift, not compared):
 * of items whose quantities Shopify does not track, and at deactivated locations.
 */
export const LEFT_OUT_STATUSES: readonly RowStatus[] = ['untracked', 'inactive-location'];

/** Statuses that mean the two sides disagree about a level both have. */
export const DRIFT_STATUSES: readonly RowStatus[] = ['change', 'erp-correction', 'conflict'];

/**
 * Drift has one definition everywhere (diff, plan, status, report, demo, sync), in two kinds named apart:
 * Shopify drift, the levels invrecon would write (status `change`), and ERP drift, the corrections the
 * ERP must take where Shopify is the authority (status `erp-correction`); both beyond the threshold.
 * Hybrid conflicts are counted on their own: no command settles them, a person does.
 */
export type DriftKind = 'shopify' | 'erp';

export function driftKind(status: RowStatus): DriftKind | undefined {
  return status === 'change' ? 'shopify' : status === 'erp-correction' ? 'erp' : undefined;
}

/** What `--detailed-exitcode` fails on: Shopify drift (the default), ERP drift, or both. Conflicts fail every gate. */
export type Gate = 'shopify' | 'erp' | 'all';

export const GATES: readonly Gate[] = ['shopify', 'erp', 'all'];

export const DEFAULT_GATE: Gate = 'shopify';

export function gateFails(counts: { shopify: number; erp: number; conflicts: number }, gate: Gate): boolean {
  return counts.conflicts > 0 || (gate !== 'erp' && counts.shopify > 0) || (gate !== 'shopify' && counts.erp > 0);
}

export interface DiffRow {
  sku: string;
  locationId: string;
  locationName: string;
  inventoryItemId: string | null;
  /** What Shopify's available should be (by the ERP's numbers, or the hybrid merge); null when unknown. */
  target: number | null;
  /** Shopify's available in the snapshot; null when the item is not stocked there or not in Shopify. */
  observed: number | null;
  delta: number | null;
  status: RowStatus;
  authority: Authority;
  reason: string;
  kind: 'level' | 'bundle' | 'shopify-only';
  erp: {
    onHand: number;
    reserved: number;
    safetyStock: number;
    safetySource: SafetySource;
    shopifyCommitted: number;
    available: number;
    clamped: boolean;
  } | null;
  hybrid: { baseErp: number; baseShopify: number; erpDelta: number; shopifyDelta: number } | null;
  category: string | null;
}

export interface DriftCount {
  levels: number;
  /** Sum of |delta| over those levels. */
  units: number;
}

export interface LocationSummary {
  locationId: string;
  locationName: string;
  levelsCompared: number;
  /** Shopify drift: levels invrecon would write, and their total |delta|. */
  levelsDrifting: number;
  totalAbsDrift: number;
  /** The Shopify drift split: Shopify above the target (oversell risk) and below it (lost sales). */
  oversell: DriftCount;
  lostSales: DriftCount;
  /** ERP drift: corrections the ERP must take (Shopify is the authority there). */
  erpDrift: DriftCount;
  /** Hybrid levels both sides changed beyond a merge: left for a person. */
  conflicts: number;
  /** Compared levels with stock in Shopify (available > 0), for the guards. */
  stocked: number;
  /** Levels left out here (untracked items, or all of an inactive location's): never written, not compared. */
  leftOut: number;
}

/** Levels left out (LEFT_OUT_STATUSES), in all and by why. */
export interface LeftOut {
  levels: number;
  ofUntrackedItems: number;
  atInactiveLocations: number;
}

export interface DiffSummary extends Omit<LocationSummary, 'locationId' | 'locationName' | 'leftOut'> {
  threshold: number;
  byLocation: LocationSummary[];
  reported: Record<Exclude<RowStatus, 'ok' | 'change'>, number> & { clamped: number };
  leftOut: LeftOut;
}

export interface DiffResult {
  erpSnapshot: SnapshotInfo;
  shopifySnapshot: SnapshotInfo;
  summary: DiffSummary;
  rows: DiffRow[];
  /** Problems of the mapping and the catalogue as a whole (unmapped warehouses, locations, …). */
  issues: string[];
}

export interface DiffOptions {
  erpSnapshotId?: number;
  shopifySnapshotId?: number;
  /** Include rows with nothing to do (delta 0, or within the threshold). */
  all?: boolean;
  /** |delta| at or below this is not drift. */
  threshold?: number;
  /** Glob on SKU (`TEE-*`). */
  sku?: string;
  /** Shopify location name or id. */
  location?: string;
  /** Also return the `ok` rows of hybrid levels (the plan records them as the new base). */
  hybridOk?: boolean;
}
