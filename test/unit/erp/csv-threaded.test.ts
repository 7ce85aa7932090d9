import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { csvErpSource } from '../../../src/sources/erp/csv.js';
import { packBatch, threadedCsvErpSource, unpackBatch } from '../../../src/sources/erp/csv-threaded.js';
import { ingestErp } from '../../../src/sources/erp/ingest.js';
import { openDb } from '../../../src/store/db.js';
import { tempDir } from '../../helpers/cli.js';
import { writeErpCsv } from '../../helpers/generate.js';

describe('CSV parsed on a worker thread', () => {
  const workspace = tempDir();
  after(() => workspace.cleanup());

  it('stores the same rows with the same content hash as the inline parser', async () => {
    const csv = join(workspace.dir, 'erp.csv');
    await writeErpCsv(csv, 150_000);
    assert.ok(statSync(csv).size > 4 * 1024 * 1024, 'large enough for the worker');
    const mapped = new Set(Array.from({ length: 10 }, (_, i) => `WH-${String(i).padStart(2, '0')}`));
    const inlineDb = openDb(join(workspace.dir, 'inline.db'));
    const threadedDb = openDb(join(workspace.dir, 'threaded.db'));
    const inline = await ingestErp(inlineDb, csvErpSource(csv), { mappedWarehouses: mapped });
    const threadedSource = threadedCsvErpSource(csv);
    assert.ok(threadedSource.contentHash, 'the large file goes to the worker');
    const threaded = await ingestErp(threadedDb, threadedSource, { mappedWarehouses: mapped });
    assert.equal(threaded.rows, 150_000);
    assert.equal(threaded.snapshot.contentHash, inline.snapshot.contentHash);
    assert.deepEqual(threaded.warehouses, inline.warehouses);
    const dump = (db: typeof inlineDb) =>
      db.prepare('SELECT sku, warehouse, on_hand, reserved, incoming, safety_stock, category, line FROM erp_levels ORDER BY sku, warehouse').raw().all();
    assert.deepEqual(dump(threadedDb), dump(inlineDb));
    inlineDb.close();
    threadedDb.close();
  });

  it('packs and unpacks a batch losslessly, texts with a NUL included', () => {
    const batch = {
      rows: [
        { sku: 'A', warehouse: 'WH', onHand: 5, reserved: 1, incoming: 0, safetyStock: null, category: null },
        { sku: 'B\u0000odd', warehouse: 'WH', onHand: 1_000_000_000, reserved: 0, incoming: 3, safetyStock: 0, category: 'c' },
      ],
      ordinals: [2, 3],
      problems: ['x'],
    };
    assert.deepEqual(unpackBatch(packBatch(batch)), batch);
    const plain = { ...batch, rows: [batch.rows[0]!], ordinals: [2] };
    assert.equal(typeof packBatch(plain).texts, 'string');
    assert.deepEqual(unpackBatch(packBatch(plain)), plain);
  });
});
