import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InvreconError, type ErrorKind } from '../../errors.js';
import { csvErpSource, type CsvSourceOptions } from './csv.js';
import type { ErpBatch, ErpSource } from './ingest.js';
import type { ErpRow } from './rows.js';

/** Below this size a worker thread costs more than it saves. */
const THREAD_THRESHOLD_BYTES = 4 * 1024 * 1024;
/** Batches the worker may have in flight: bounds memory when SQLite is the slower side. */
const IN_FLIGHT = 4;
const NUMBERS = 5;
const SEPARATOR = '\u0000';
/** safety_stock absent (config rules apply), in the Int32Array. */
const NO_SAFETY = -1;

/**
 * A batch in columns: the numbers in an Int32Array (transferred, not copied) and the texts joined into
 * one string. Copying millions of small strings and arrays between threads costs more than parsing them.
 */
export interface PackedBatch {
  numbers: Int32Array;
  /** sku, warehouse and category ('' = none) of each row, joined by NUL; or the rows themselves when a text holds a NUL. */
  texts: string | string[];
  problems: string[];
}

export type WorkerMessage =
  { type: 'batch'; batch: PackedBatch } | { type: 'done'; contentHash: string } | { type: 'error'; kind: ErrorKind; message: string; details: string[] };

export function packBatch(batch: ErpBatch): PackedBatch {
  const numbers = new Int32Array(batch.rows.length * NUMBERS);
  const texts: string[] = new Array(batch.rows.length * 3);
  batch.rows.forEach((row, i) => {
    const at = i * NUMBERS;
    numbers[at] = row.onHand;
    numbers[at + 1] = row.reserved;
    numbers[at + 2] = row.incoming;
    numbers[at + 3] = row.safetyStock ?? NO_SAFETY;
    numbers[at + 4] = batch.ordinals[i]!;
    texts[i * 3] = row.sku;
    texts[i * 3 + 1] = row.warehouse;
    texts[i * 3 + 2] = row.category ?? '';
  });
  const joinable = !texts.some((t) => t.includes(SEPARATOR));
  return { numbers, texts: joinable ? texts.join(SEPARATOR) : texts, problems: batch.problems };
}

export function unpackBatch(packed: PackedBatch): ErpBatch {
  const texts = typeof packed.texts === 'string' ? (packed.texts === '' ? [] : packed.texts.split(SEPARATOR)) : packed.texts;
  const n = packed.numbers;
  const rows: ErpRow[] = new Array(n.length / NUMBERS);
  const ordinals: number[] = new Array(n.length / NUMBERS);
  for (let i = 0; i < rows.length; i++) {
    const at = i * NUMBERS;
    rows[i] = {
      sku: texts[i * 3]!,
      warehouse: texts[i * 3 + 1]!,
      onHand: n[at]!,
      reserved: n[at + 1]!,
      incoming: n[at + 2]!,
      safetyStock: n[at + 3] === NO_SAFETY ? null : n[at + 3]!,
      category: texts[i * 3 + 2] || null,
    };
    ordinals[i] = n[at + 4]!;
  }
  return { rows, ordinals, problems: packed.problems };
}

function workerUrl(): URL {
  // Run from source (tests under tsx), a worker thread does not get tsx's loader: use the built worker,
  // which npm test builds first.
  return new URL(import.meta.url.endsWith('.ts') ? '../../../dist/sources/erp/csv-worker.js' : './csv-worker.js', import.meta.url);
}

/**
 * The CSV source, parsed, validated and hashed in a worker thread when the file is large enough for
 * that to pay, while this thread writes the previous batches to SQLite.
 */
export function threadedCsvErpSource(path: string, options: CsvSourceOptions = {}): ErpSource {
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    // The inline source reports a missing or unreadable file with its own message.
  }
  if (size < THREAD_THRESHOLD_BYTES) return csvErpSource(path, options);
  const short = basename(path);
  let contentHash: string | undefined;
  return {
    name: path,
    describeOrdinal: (line) => `${short}:${line}`,
    contentHash: () => {
      if (contentHash === undefined) throw new Error('the CSV worker has not finished');
      return contentHash;
    },
    async *batches(): AsyncGenerator<ErpBatch> {
      const worker = new Worker(workerUrl(), { workerData: { path, options, credits: IN_FLIGHT } });
      const queue: WorkerMessage[] = [];
      let wake: (() => void) | undefined;
      let crashed: Error | undefined;
      worker.on('message', (message: WorkerMessage) => {
        queue.push(message);
        wake?.();
      });
      worker.on('error', (error) => {
        crashed = error;
        wake?.();
      });
      worker.on('exit', (code) => {
        if (code !== 0 && !crashed) crashed = new Error(`CSV worker exited with code ${code}`);
        wake?.();
      });
      try {
        for (;;) {
          while (queue.length === 0) {
            if (crashed) throw crashed;
            await new Promise<void>((resolve) => (wake = resolve));
          }
          const message = queue.shift()!;
          if (message.type === 'done') {
            contentHash = message.contentHash;
            return;
          }
          if (message.type === 'error') {
            throw message.kind === 'internal' ? new Error(message.message) : new InvreconError(message.kind, message.message, message.details);
          }
          worker.postMessage({ credit: 1 });
          yield unpackBatch(message.batch);
        }
      } finally {
        await worker.terminate();
      }
    },
  };
}
