// Parses and validates a CSV export off the main thread, which meanwhile writes the previous batches
// to SQLite: on two cores a large pull takes about as long as the slower of the two halves.
import { parentPort, workerData } from 'node:worker_threads';
import { InvreconError } from '../../errors.js';
import { csvErpSource, type CsvSourceOptions } from './csv.js';
import { ErpRowsHash } from '../../store/erp-snapshots.js';
import { packBatch, type WorkerMessage } from './csv-threaded.js';

const { path, options, credits: initialCredits } = workerData as { path: string; options: CsvSourceOptions; credits: number };
const port = parentPort!;
let credits = initialCredits;
let wake: (() => void) | undefined;
port.on('message', (message: { credit: number }) => {
  credits += message.credit;
  wake?.();
});

function send(message: WorkerMessage): void {
  port.postMessage(message);
}

try {
  const hash = new ErpRowsHash();
  for await (const batch of csvErpSource(path, options).batches!()) {
    hash.update(batch.rows);
    const packed = packBatch(batch);
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
    port.postMessage({ type: 'batch', batch: packed } satisfies WorkerMessage, [packed.numbers.buffer as ArrayBuffer]);
  }
  send({ type: 'done', contentHash: hash.digest() });
} catch (error) {
  if (error instanceof InvreconError) send({ type: 'error', kind: error.kind, message: error.message, details: error.details });
  else send({ type: 'error', kind: 'internal', message: error instanceof Error ? (error.stack ?? error.message) : String(error), details: [] });
}
port.close();
