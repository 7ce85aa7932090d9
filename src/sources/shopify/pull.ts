import type { LoadedConfig } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import type { Db } from '../../store/db.js';
import { ShopifySnapshotWriter, type HygieneReport, type SkuReport } from '../../store/shopify-snapshots.js';
import type { SnapshotInfo } from '../../store/snapshots.js';
import { readInventoryBulk, type BulkProgress } from './bulk.js';
import { createShopifyClient, type ShopifyClient, type ShopifyClientOptions } from './client.js';
import { countItemsAbove, readInventoryPaged, readLocations } from './paged.js';
import { pagedItemLimit } from './pull-mode.js';
import { readShopRecord } from './shop-record.js';
import { keepShopRecord, type ShopRecordCopy } from '../../store/shop-records.js';

export type PullMode = 'auto' | 'paged' | 'bulk';

export interface PullShopifyProgress {
  phase: 'locations' | 'paged' | 'bulk-running' | 'bulk-download' | 'finishing';
  items: number;
  levels: number;
  /** Bulk: objects to read (known once the operation completed). */
  total?: number;
  /** Bulk: lines read so far. */
  done?: number;
  calls: number;
}

export interface PullShopifyOptions {
  mode?: PullMode;
  /** A ready client (tests); otherwise one is made from the config and environment. */
  client?: ShopifyClient;
  clientOptions?: ShopifyClientOptions;
  onProgress?: (progress: PullShopifyProgress) => void;
  sleep?: (ms: number) => Promise<void>;
  bulkPollMs?: number;
}

export interface ShopifyPullResult {
  snapshot: SnapshotInfo;
  mode: 'paged' | 'bulk';
  /** Why this mode: a flag, or the item count against shopify.bulkThreshold. */
  modeReason: string;
  rows: number;
  locations: number;
  items: number;
  skus: SkuReport;
  /** Untracked items and inactive locations: kept in the snapshot, left out of plans. */
  hygiene: HygieneReport;
  warnings: string[];
  calls: number;
  retries: number;
  throttled: number;
  throttledWaits: number;
  waitedMs: number;
  durationMs: number;
  bulkOperationId?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const SAMPLE = 20;

export function chooseMode(flags: { bulk?: boolean; paged?: boolean }): PullMode {
  if (flags.bulk && flags.paged) throw new UsageError('--bulk and --paged: choose one');
  return flags.bulk ? 'bulk' : flags.paged ? 'paged' : 'auto';
}

function skuWarnings(report: SkuReport): string[] {
  const warnings: string[] = [];
  const { withoutSku, shared } = report;
  if (withoutSku.count > 0) {
    const ids = withoutSku.inventoryItemIds.slice(0, SAMPLE).join(', ');
    warnings.push(
      `${withoutSku.count} inventory item${withoutSku.count === 1 ? ' has' : 's have'} no SKU and cannot be reconciled (kept in the snapshot with sku NULL): ${ids}${withoutSku.count > SAMPLE ? ', …' : ''}`,
    );
  }
  for (const { sku, inventoryItemIds } of shared.skus.slice(0, SAMPLE)) {
    warnings.push(`SKU "${sku}" is shared by ${inventoryItemIds.length} inventory items (${inventoryItemIds.join(', ')}): reconciling it is ambiguous`);
  }
  if (shared.count > SAMPLE) warnings.push(`… and ${shared.count - SAMPLE} more SKUs shared by several inventory items`);
  return warnings;
}

/** Reads locations and every inventory item with its levels into one new Shopify snapshot. */
export async function pullShopify(db: Db, config: LoadedConfig, options: PullShopifyOptions = {}): Promise<ShopifyPullResult> {
  const started = Date.now();
  const mode = options.mode ?? 'auto';
  const sleep = options.sleep ?? defaultSleep;
  // The client first: a missing token or a bad endpoint fails before anything is opened.
  const client = options.client ?? createShopifyClient(config, { sleep, ...options.clientOptions });
  const writer = new ShopifySnapshotWriter(db, config.shopify.shop);
  const warnings: string[] = [];
  const report = (progress: Omit<PullShopifyProgress, 'calls'>) => options.onProgress?.({ ...progress, calls: client.counters.calls });
  try {
    report({ phase: 'locations', items: 0, levels: 0 });
    const locationsStarted = Date.now();
    const locationCount = await readLocations(client, writer);

    let usedMode: 'paged' | 'bulk';
    let modeReason: string;
    if (mode === 'auto') {
      // Paged only while it is expected to be faster than a bulk operation, at this shop's bucket and latency.
      const latencyMs = (Date.now() - locationsStarted) / Math.max(1, client.counters.calls);
      const limit = pagedItemLimit({ locations: locationCount, bucket: client.throttleStatus(), latencyMs }, config.shopify.bulkThreshold);
      const count = await countItemsAbove(client, limit);
      usedMode = count.above ? 'bulk' : 'paged';
      const why = `a paged read is expected to beat a bulk operation up to ${limit} items at ${locationCount} location(s) with this bucket (shopify.bulkThreshold caps it at ${config.shopify.bulkThreshold}); counted by ${count.how}`;
      modeReason = count.above ? `more than ${limit} inventory items: ${why}` : `${count.counted} inventory items: ${why}`;
    } else {
      usedMode = mode;
      modeReason = `--${mode}`;
    }
    // The installs' record of applies, read while the inventory is: a copy lets apply claim the shop in one
    // call. Only a help: if it cannot be read, the apply reads it (and says why it cannot).
    const shopRecord = readShopRecord(client).catch((): ShopRecordCopy | undefined => undefined);
    if (usedMode === 'paged') {
      await readInventoryPaged(client, writer, { locationCount, onProgress: (p) => report({ phase: 'paged', ...p }) });
    }

    let bulkOperationId: string | undefined;
    if (usedMode === 'bulk') {
      const bulk = await readInventoryBulk(client, writer, {
        sleep,
        pollMs: options.bulkPollMs,
        idleTimeoutMs: config.shopify.timeoutMs,
        onProgress: (p: BulkProgress) =>
          report(
            p.phase === 'running'
              ? { phase: 'bulk-running', items: 0, levels: 0, total: p.objectCount }
              : { phase: 'bulk-download', items: 0, levels: 0, total: p.objectCount, done: p.lines },
          ),
      });
      bulkOperationId = bulk.operationId;
      if (bulk.join.orphans > 0) {
        warnings.push(
          `${bulk.join.orphans} level line(s) of the bulk result name an inventory item that is not in it (${bulk.join.orphanParents.join(', ')}); left out`,
        );
      }
      if (bulk.join.duplicates > 0) warnings.push(`${bulk.join.duplicates} level line(s) of the bulk result repeat an item/location pair; kept once`);
      if (bulk.unknownLines > 0) warnings.push(`${bulk.unknownLines} line(s) of the bulk result are neither an inventory item nor a level; ignored`);
      if (bulk.downloadRestarts > 0) warnings.push(`the bulk result download broke off and was restarted ${bulk.downloadRestarts} time(s)`);
    }

    const record = await shopRecord;
    const counts = writer.counts();
    report({ phase: 'finishing', items: counts.items, levels: counts.levels });
    const skus = writer.skuReport(SAMPLE * 5);
    const hygiene = writer.hygieneReport(SAMPLE);
    warnings.push(...client.warnings, ...skuWarnings(skus));
    if (writer.duplicateItems > 0) warnings.push(`${writer.duplicateItems} inventory item(s) came twice (the catalog changed during the pull); kept once`);
    if (writer.duplicateLevels > 0) warnings.push(`${writer.duplicateLevels} level(s) came twice; kept once`);
    const stray = writer.levelsAtUnlistedLocations();
    if (stray.count > 0) {
      warnings.push(`${stray.count} level(s) are at locations the locations query did not list: ${stray.locationIds.join(', ')}`);
    }

    const counters = { ...client.counters };
    const durationMs = Date.now() - started;
    const snapshot = writer.finish({
      mode: usedMode,
      modeReason,
      apiVersion: config.shopify.apiVersion,
      endpoint: client.endpoint.graphqlUrl,
      locations: counts.locations,
      items: counts.items,
      itemsWithoutSku: skus.withoutSku.count,
      sharedSkus: skus.shared.count,
      untrackedItems: hygiene.untrackedItems.count,
      inactiveLocations: hygiene.inactiveLocations.count,
      bulkOperationId,
      warnings,
      ...counters,
      durationMs,
    });
    try {
      if (record) keepShopRecord(db, config.shopify.shop, record, 'read');
    } catch {
      // The snapshot is in; without the copy the next apply reads the record first (one round trip more).
    }
    return {
      snapshot,
      mode: usedMode,
      modeReason,
      rows: counts.levels,
      locations: counts.locations,
      items: counts.items,
      skus,
      hygiene,
      warnings,
      ...counters,
      durationMs,
      bulkOperationId,
    };
  } catch (error) {
    writer.abort();
    throw error;
  }
}
