import type { PullShopifyProgress, ShopifyPullResult } from '../sources/shopify/pull.js';
import { formatMs, plural, renderJson } from './common.js';

export function shopifyPullJson(result: ShopifyPullResult): Record<string, unknown> {
  return {
    snapshotId: result.snapshot.id,
    side: 'shopify',
    rows: result.rows,
    locations: result.locations,
    items: result.items,
    mode: result.mode,
    modeReason: result.modeReason,
    itemsWithoutSku: result.skus.withoutSku,
    sharedSkus: result.skus.shared,
    untrackedItems: result.hygiene.untrackedItems,
    inactiveLocations: result.hygiene.inactiveLocations,
    warnings: result.warnings,
    calls: result.calls,
    retries: result.retries,
    throttled: result.throttled,
    throttledWaits: result.throttledWaits,
    waitedMs: result.waitedMs,
    durationMs: result.durationMs,
    bulkOperationId: result.bulkOperationId ?? null,
    source: result.snapshot.source,
    contentHash: result.snapshot.contentHash,
    takenAt: result.snapshot.takenAt,
  };
}

export function renderShopifyPull(result: ShopifyPullResult, format: string): string {
  if (format === 'json') return renderJson(shopifyPullJson(result));
  const skuless = result.skus.withoutSku.count;
  const { untrackedItems, inactiveLocations } = result.hygiene;
  const leftOut = [
    untrackedItems.count ? `${plural(untrackedItems.count, 'untracked item')}` : '',
    inactiveLocations.count ? `${plural(inactiveLocations.count, 'inactive location')}` : '',
  ].filter(Boolean);
  return (
    `Shopify snapshot #${result.snapshot.id}: ${plural(result.rows, 'level')}, ${plural(result.items, 'item')}` +
    `${skuless ? ` (${skuless} without SKU)` : ''}, ${plural(result.locations, 'location')} ` +
    `(${result.mode}, ${plural(result.calls, 'call')}, ${plural(result.retries, 'retry', 'retries')}, ${plural(result.throttledWaits, 'throttle wait')}) ` +
    `in ${formatMs(result.durationMs)}\n` +
    (leftOut.length ? `Kept in the snapshot, left out of plans: ${leftOut.join(', ')} (see "invrecon diff").\n` : '')
  );
}

/** One progress line (no newline) for a TTY: a bar when the total is known, counters otherwise. */
export function renderPullProgress(progress: PullShopifyProgress, width = 24): string {
  const calls = plural(progress.calls, 'call');
  switch (progress.phase) {
    case 'locations':
      return `pull shopify: reading locations… ${calls}`;
    case 'paged':
      return `pull shopify: ${plural(progress.items, 'item')}, ${plural(progress.levels, 'level')} (paged, ${calls})`;
    case 'bulk-running':
      return `pull shopify: bulk operation running, ${plural(progress.total ?? 0, 'object')} so far (${calls})`;
    case 'bulk-download': {
      const total = Math.max(1, progress.total ?? 0);
      const done = Math.min(total, progress.done ?? 0);
      const filled = Math.round((done / total) * width);
      return `pull shopify: [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor((done / total) * 100)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} lines`;
    }
    case 'finishing':
      return `pull shopify: writing the snapshot (${plural(progress.items, 'item')}, ${plural(progress.levels, 'level')})…`;
  }
}
