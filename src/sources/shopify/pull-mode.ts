// Paged or bulk, by expected time: a paged read costs points per item (the bucket paces it), a bulk
// operation a few seconds of start, polls and download whatever the size. The default pull reads paged
// only the shops that this model says are faster that way.
import type { ThrottleStatus } from './pacing.js';

/** Seconds a bulk operation takes besides its size: start, a few polls, the download's round trips. */
export const BULK_FIXED_SECONDS = 4;
/** Levels a bulk operation returns per second (a guess, on the slow side). */
export const BULK_LEVELS_PER_SECOND = 50_000;
const SINGLE_QUERY_MAX_COST = 1000;

export interface PagedEstimateInput {
  locations: number;
  /** The bucket as the last answer reported it; undefined when Shopify said nothing of it. */
  bucket: ThrottleStatus | undefined;
  /** Round trip of one call, measured on the calls made so far. */
  latencyMs: number;
}

/** Points one item costs in a page (the item, its levels connection, and per level the level, its location and quantities). */
export function pointsPerItem(locations: number): number {
  return 3 + 3 * Math.max(1, Math.min(250, locations));
}

export function pagedSeconds(items: number, input: PagedEstimateInput): number {
  const perItem = pointsPerItem(input.locations);
  const bucket = input.bucket!;
  const pageSize = Math.max(1, Math.min(250, Math.floor(Math.min(SINGLE_QUERY_MAX_COST, bucket.maximumAvailable) / perItem)));
  const waitForPoints = Math.max(0, items * perItem - bucket.currentlyAvailable) / bucket.restoreRate;
  return waitForPoints + Math.ceil(items / pageSize) * (input.latencyMs / 1000);
}

export function bulkSeconds(items: number, locations: number): number {
  return BULK_FIXED_SECONDS + (items * Math.max(1, locations)) / BULK_LEVELS_PER_SECOND;
}

/**
 * The most items a paged read is expected to finish no later than a bulk operation, never above `cap`
 * (shopify.bulkThreshold). Without a known bucket, `cap`.
 */
export function pagedItemLimit(input: PagedEstimateInput, cap: number): number {
  if (!input.bucket || input.bucket.restoreRate <= 0) return cap;
  let low = 0;
  let high = cap;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (pagedSeconds(mid, input) <= bulkSeconds(mid, input.locations)) low = mid;
    else high = mid - 1;
  }
  return low;
}
