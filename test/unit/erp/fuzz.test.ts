// Random bytes and random CSV-shaped text fed to the ERP CSV source (issue 12): every input ends in a
// snapshot or in located InputErrors with no snapshot, never in another kind of error.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { csvText, randomBytes } from '../../helpers/fuzz.js';
import { InputError } from '../../../src/errors.js';
import { csvErpSource } from '../../../src/sources/erp/csv.js';
import { ingestErp } from '../../../src/sources/erp/ingest.js';
import { openDb } from '../../../src/store/db.js';
import { tempDir } from '../../helpers/cli.js';

describe('pull erp on random input (fast-check)', () => {
  const workspace = tempDir();
  const db = openDb(join(workspace.dir, 'fuzz.db'));
  after(() => {
    db.close();
    workspace.cleanup();
  });
  let n = 0;
  const snapshots = () => db.prepare('SELECT COUNT(*) FROM snapshots').pluck().get() as number;

  async function check(bytes: Buffer | string): Promise<void> {
    const path = join(workspace.dir, `fuzz-${++n}.csv`);
    writeFileSync(path, bytes);
    const before = snapshots();
    try {
      const result = await ingestErp(db, csvErpSource(path), { mappedWarehouses: new Set(['WH-A']) });
      assert.equal(snapshots(), before + 1);
      assert.equal(result.snapshot.rowCount, result.rows);
    } catch (error) {
      assert.ok(error instanceof InputError, `not an InputError: ${(error as Error).stack}`);
      assert.equal(snapshots(), before, 'no snapshot after an error');
      const lines = [error.message, ...error.details];
      // Every problem names the file and a line; the summary line names the file.
      assert.match(error.message, new RegExp(`fuzz-${n}\\.csv`));
      for (const line of error.details.filter((d) => !d.startsWith('('))) assert.match(line, new RegExp(`fuzz-${n}\\.csv:\\d+`), line);
      assert.ok(lines.join('\n').length < 50_000);
    }
  }

  it('random CSV-shaped text: a snapshot, or located errors and no snapshot', async () => {
    await fc.assert(fc.asyncProperty(csvText, check), { numRuns: 300 });
  });

  it('random bytes: a snapshot, or located errors and no snapshot', async () => {
    await fc.assert(fc.asyncProperty(randomBytes, check), { numRuns: 300 });
  });
});
