import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { SourceError, errorMessage } from '../../errors.js';
import type { ShopifySnapshotWriter, StagedJoin } from '../../store/shopify-snapshots.js';
import type { ShopifyClient } from './client.js';
import {
  BULK_INVENTORY_QUERY,
  BULK_OPERATION_RUN_QUERY,
  BULK_OPERATION_STATUS,
  CURRENT_BULK_OPERATION,
  type BulkOperationRunQueryData,
  type BulkOperationStatusData,
  type CurrentBulkOperationData,
} from './documents.js';
import { toLevelQuantities } from './quantities.js';

export interface BulkProgress {
  phase: 'running' | 'download';
  /** Objects Shopify has written so far (running) or the total to read (download). */
  objectCount: number;
  /** Lines read from the result so far. */
  lines: number;
}

export interface BulkOptions {
  sleep: (ms: number) => Promise<void>;
  onProgress?: (progress: BulkProgress) => void;
  /** First poll delay; grows by half each poll up to pollMaxMs. */
  pollMs?: number;
  pollMaxMs?: number;
  /** A stalled result download (no bytes for this long) is restarted. */
  idleTimeoutMs: number;
  /** Whole-download restarts after a dropped stream. */
  downloadAttempts?: number;
}

export interface BulkResult {
  operationId: string;
  items: number;
  join: StagedJoin;
  /** Lines that were neither an item nor a level. */
  unknownLines: number;
  downloadRestarts: number;
}

const normalize = (query: string) => query.replace(/\s+/g, ' ').trim();

async function startBulkQuery(client: ShopifyClient): Promise<string> {
  const { data } = await client.request<BulkOperationRunQueryData>(BULK_OPERATION_RUN_QUERY, { query: BULK_INVENTORY_QUERY }, { expectedCost: 10 });
  const payload = data.bulkOperationRunQuery;
  const operation = payload?.bulkOperation;
  if (operation && (payload?.userErrors.length ?? 0) === 0) return operation.id;
  const messages = (payload?.userErrors ?? []).map((e) => e.message);
  // A retried start whose first answer was lost finds its own operation running: adopt it.
  const current = await client.request<CurrentBulkOperationData>(CURRENT_BULK_OPERATION).catch(() => undefined);
  const running = current?.data.currentBulkOperation;
  if (running && (running.status === 'RUNNING' || running.status === 'CREATED')) {
    if (normalize(running.query) === normalize(BULK_INVENTORY_QUERY)) return running.id;
    throw new SourceError(
      `Shopify bulkOperationRunQuery: another bulk query (${running.id}) is running on this shop; wait for it to finish or cancel it, or pull with --paged`,
      messages,
    );
  }
  throw new SourceError(`Shopify bulkOperationRunQuery: ${messages[0] ?? 'no bulk operation was started'}`, messages.slice(1));
}

type BulkStatus = NonNullable<BulkOperationStatusData['bulkOperation']>;

async function waitForBulk(client: ShopifyClient, id: string, options: BulkOptions): Promise<BulkStatus> {
  let delay = options.pollMs ?? 500;
  for (;;) {
    const { data } = await client.request<BulkOperationStatusData>(BULK_OPERATION_STATUS, { id });
    const operation = data.bulkOperation;
    if (!operation) throw new SourceError(`Shopify bulkOperation: operation ${id} not found`);
    options.onProgress?.({ phase: 'running', objectCount: Number(operation.objectCount), lines: 0 });
    switch (operation.status) {
      case 'COMPLETED':
        return operation;
      case 'FAILED':
        throw new SourceError(`Shopify bulk operation ${id} failed${operation.errorCode ? ` (${operation.errorCode})` : ''}; nothing was written`);
      case 'CANCELED':
      case 'CANCELING':
      case 'EXPIRED':
        throw new SourceError(`Shopify bulk operation ${id} is ${operation.status.toLowerCase()}; nothing was written`);
      default:
        await options.sleep(delay);
        delay = Math.min(options.pollMaxMs ?? 5000, Math.ceil(delay * 1.5));
    }
  }
}

/** Reads the JSONL result line by line: items go in directly, levels are staged until every item is in. */
async function streamResult(
  client: ShopifyClient,
  url: string,
  writer: ShopifySnapshotWriter,
  total: number,
  options: BulkOptions,
): Promise<{ items: number; unknownLines: number }> {
  const controller = new AbortController();
  const response = await client.download(url, controller.signal);
  if (!response.body) throw new SourceError('Shopify bulk operation result: empty response body');
  let lastActivity = Date.now();
  const watchdog = setInterval(
    () => {
      if (Date.now() - lastActivity > options.idleTimeoutMs) controller.abort();
    },
    Math.min(1000, options.idleTimeoutMs),
  );
  const input = Readable.fromWeb(response.body);
  input.on('data', () => (lastActivity = Date.now()));
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let items = 0;
  let unknownLines = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      let record: { id?: unknown; sku?: unknown; tracked?: unknown; __parentId?: unknown; location?: { id?: unknown }; quantities?: unknown };
      try {
        record = JSON.parse(line) as typeof record;
      } catch (error) {
        throw new SourceError(`Shopify bulk operation result, line ${lineNo}: not JSON (${errorMessage(error)})`);
      }
      if (typeof record.__parentId === 'string') {
        const locationId = record.location?.id;
        if (typeof locationId !== 'string') throw new SourceError(`Shopify bulk operation result, line ${lineNo}: a level without location.id`);
        writer.stageLevel(record.__parentId, locationId, toLevelQuantities(record.quantities, `bulk operation result, line ${lineNo}`));
      } else if (typeof record.id === 'string' && record.id.startsWith('gid://shopify/InventoryItem/')) {
        writer.addBulkItem(record.id, typeof record.sku === 'string' ? record.sku : null, record.tracked !== false);
        items++;
      } else {
        unknownLines++;
      }
      if (lineNo % 10_000 === 0) options.onProgress?.({ phase: 'download', objectCount: total, lines: lineNo });
    }
  } catch (error) {
    if (controller.signal.aborted && !(error instanceof SourceError)) throw new DownloadInterrupted(`no data for ${options.idleTimeoutMs} ms`);
    if (error instanceof SourceError) throw error;
    throw new DownloadInterrupted(errorMessage(error));
  } finally {
    clearInterval(watchdog);
    lines.close();
    input.destroy();
  }
  options.onProgress?.({ phase: 'download', objectCount: total, lines: lineNo });
  return { items, unknownLines };
}

class DownloadInterrupted extends Error {}

/** Runs the bulk inventory query, waits for it, and writes its result into the open snapshot. */
export async function readInventoryBulk(client: ShopifyClient, writer: ShopifySnapshotWriter, options: BulkOptions): Promise<BulkResult> {
  const operationId = await startBulkQuery(client);
  const operation = await waitForBulk(client, operationId, options);
  const total = Number(operation.objectCount);
  if (!operation.url) {
    // Completed with no objects: Shopify gives no file.
    if (total > 0) throw new SourceError(`Shopify bulk operation ${operationId} completed with ${total} objects but no result URL`);
    return { operationId, items: 0, join: writer.joinStagedLevels(), unknownLines: 0, downloadRestarts: 0 };
  }
  const attempts = options.downloadAttempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      const { items, unknownLines } = await streamResult(client, operation.url, writer, total, options);
      return { operationId, items, join: writer.joinStagedLevels(), unknownLines, downloadRestarts: attempt - 1 };
    } catch (error) {
      if (!(error instanceof DownloadInterrupted) || attempt >= attempts) {
        throw error instanceof DownloadInterrupted
          ? new SourceError(`Shopify bulk operation result: the download broke off ${attempts} times; last: ${error.message}`)
          : error;
      }
      // Start the file over: forget what this attempt wrote.
      writer.clearItemsAndLevels();
      await options.sleep(Math.min(10_000, 500 * 2 ** (attempt - 1)));
    }
  }
}
