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
const FIELDS = 8;

/** A batch as flat arrays: cheaper to copy between threads than objects. */
export interface PackedBatch {
  values: (string | number | null)[];
  problems: string[];
}

export type WorkerMessage =
  | { type: 'batch'; batch: PackedBatch }
  | { type: 'done' }
  | { type: 'error'; kind: ErrorKind; message: string; details: string[] };

export function packBatch(batch: ErpBatch): PackedBatch {
  const values = new Array<string | number | null>(batch.rows.length * FIELDS);
  batch.rows.forEach((row, i) => {
    const at = i * FIELDS;
    values[at] = row.sku;
    values[at + 1] = row.warehouse;
    values[at + 2] = row.onHand;
    values[at + 3] = row.reserved;
    values[at + 4] = row.incoming;
    values[at + 5] = row.safetyStock;
    values[at + 6] = row.category;
    values[at + 7] = batch.ordinals[i]!;
  });
  return { values, problems: batch.problems };
}

export function unpackBatch(packed: PackedBatch): ErpBatch {
  const rows: ErpRow[] = [];
  const ordinals: number[] = [];
  const v = packed.values;
  for (let at = 0; at < v.length; at += FIELDS) {
    rows.push({
      sku: v[at] as string,
      warehouse: v[at + 1] as string,
      onHand: v[at + 2] as number,
      reserved: v[at + 3] as number,
      incoming: v[at + 4] as number,
      safetyStock: v[at + 5] as number | null,
      category: v[at + 6] as string | null,
    });
    ordinals.push(v[at + 7] as number);
  }
  return { rows, ordinals, problems: packed.problems };
}

function workerUrl(): URL {
  // Under tsx (tests) this module is .ts and so is its worker; built, both are .js.
  return new URL(import.meta.url.endsWith('.ts') ? './csv-worker.ts' : './csv-worker.js', import.meta.url);
}

/** The CSV source, parsed in a worker thread when the file is large enough for that to pay. */
export function threadedCsvErpSource(path: string, options: CsvSourceOptions = {}): ErpSource {
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    // The inline source reports a missing or unreadable file with its own message.
  }
  if (size < THREAD_THRESHOLD_BYTES) return csvErpSource(path, options);
  const short = basename(path);
  return {
    name: path,
    describeOrdinal: (line) => `${short}:${line}`,
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
          if (message.type === 'done') return;
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

