import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError, StaleError } from '../../../src/errors.js';
import { openPlan, readPlan } from '../../../src/plan/file.js';
import { PlanWriter } from '../../../src/plan/file-writer.js';
import type { PlanChange, PlanHeader } from '../../../src/plan/model.js';
import { globMatcher, pagePlan } from '../../../src/plan/show.js';
import { levelFormula } from '../../../src/reconcile/diff.js';

const dir = mkdtempSync(join(tmpdir(), 'invrecon-plan-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const locations = [
  { id: 'gid://shopify/Location/1', name: 'Main' },
  { id: 'gid://shopify/Location/2', name: 'Store' },
];
const content: Parameters<PlanWriter['finish']>[0] = {
  tool: { name: 'invrecon', version: '0.0.0' },
  createdAt: '2026-01-01T00:00:00Z',
  shop: 'test.myshopify.com',
  apiVersion: '2026-10',
  baseline: {
    erp: { snapshotId: 1, contentHash: 'e', takenAt: '2026-01-01T00:00:00Z', rows: 3 },
    shopify: { snapshotId: 2, contentHash: 's', takenAt: '2026-01-01T00:00:00Z', rows: 3 },
  },
  guards: { applyable: true, forced: false, checks: [] },
  summary: { changes: 3, zeroed: 0, levelsCompared: 3, unitsUp: 0, unitsDown: 0, erpCorrections: 1, conflicts: 0, byLocation: [] },
  issues: ['one issue'],
};

function change(sku: string, location: number, from: number, to: number, extra: Partial<PlanChange> = {}): PlanChange {
  return {
    sku,
    inventoryItemId: `gid://shopify/InventoryItem/${100 + sku.length}`,
    locationId: locations[location]!.id,
    locationName: locations[location]!.name,
    from,
    to,
    delta: to - from,
    mode: 'set',
    authority: 'erp',
    erpAvailable: to,
    reason: levelFormula(to + 2, 2, 0, 'default', 0),
    ...extra,
  };
}

const changes = [
  change('TEE-RED-M', 0, 5, 13),
  change('MUG', 1, 9, 4, { reason: 'bundle: min over A/1 = 4', inventoryItemId: 'gid://other/Item/x' }),
  change('TEE-RED-L', 1, 3, 6, { mode: 'adjust', authority: 'hybrid', erpAvailable: 8, reason: 'hybrid: merged' }),
];

function write(name: string): { header: PlanHeader; path: string } {
  const writer = new PlanWriter(dir, locations);
  for (const c of changes) writer.change(c, c.reason.startsWith('on_hand') ? [c.to + 2, 2, 0, 'default', 0] : undefined);
  writer.erpCorrection({
    sku: 'POS',
    locationId: locations[1]!.id,
    locationName: 'Store',
    warehouse: 'S-1',
    current: 4,
    proposed: 2,
    delta: -2,
    reason: 'Shopify shows 2',
  });
  writer.hybridBase({ sku: 'H', locationId: locations[0]!.id, erpAvailable: 3, shopifyAvailable: 3 });
  return writer.finish(content, () => join(dir, name));
}

describe('plan file format 2', () => {
  it('reads back every row as written: changes, ERP corrections, hybrid base', () => {
    const { header, path } = write('plan.json');
    const plan = readPlan(path);
    assert.deepEqual(plan.changes, changes);
    assert.deepEqual(
      plan.erpCorrections.map((e) => [e.sku, e.locationName, e.warehouse, e.proposed]),
      [['POS', 'Store', 'S-1', 2]],
    );
    assert.deepEqual(plan.hybridBaseline, [{ sku: 'H', locationId: locations[0]!.id, erpAvailable: 3, shopifyAvailable: 3 }]);
    assert.equal(plan.digest, header.digest);
    assert.deepEqual([header.body.changes.lines, header.body.erpCorrections.lines, header.body.hybridBaseline.lines], [3, 1, 1]);
  });

  it('opens with a readable header, then one compact line a row: the ERP formula as numbers, an item id by its number', () => {
    const { path } = write('readable.json');
    const text = readFileSync(path, 'utf8');
    assert.match(text, /^\{\n {2}"apiVersion": "2026-10",\n/);
    const rows = text
      .slice(text.indexOf('\n}\n') + 3)
      .trimEnd()
      .split('\n');
    assert.equal(rows.length, 5);
    assert.equal(rows[0], '{"sku":"TEE-RED-M","item":109,"loc":0,"from":5,"to":13,"why":[15,2,0,"default",0]}');
    assert.match(rows[1]!, /"item":"gid:\/\/other\/Item\/x".*"why":"bundle: min over A\/1 = 4"/);
    assert.match(rows[2]!, /"mode":"adjust","authority":"hybrid","erp":8/);
  });

  it('writes the same bytes for the same rows (the digest is stable)', () => {
    const one = write('same-1.json');
    const two = write('same-2.json');
    assert.equal(readFileSync(one.path, 'utf8'), readFileSync(two.path, 'utf8'));
  });

  it('refuses a row edited in place, a header edited, and a file cut short', () => {
    const { path } = write('tamper.json');
    const text = readFileSync(path, 'utf8');
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, text.replace('"to":13', '"to":14'));
    assert.throws(
      () => openPlan(edited),
      (e: unknown) => e instanceof StaleError && /rows do not match its digest/.test(e.message),
    );
    writeFileSync(edited, text.replace('"one issue"', '"two issues"'));
    assert.throws(
      () => openPlan(edited),
      (e: unknown) => e instanceof StaleError && /digest does not match its header/.test(e.message),
    );
    writeFileSync(edited, text.slice(0, statSync(path).size - 10));
    assert.throws(
      () => openPlan(edited),
      (e: unknown) => e instanceof StaleError && /cut short/.test(e.message),
    );
  });

  it('refuses a format 1 plan (one JSON document) and says to make a new plan', () => {
    const old = join(dir, 'v1.json');
    writeFileSync(old, JSON.stringify({ changes: [], digest: 'x', formatVersion: 1 }, null, 2) + '\n');
    assert.throws(
      () => openPlan(old),
      (e: unknown) =>
        e instanceof InputError &&
        /plan format version 1 is not supported \(this invrecon reads version 2\); make a new plan with "invrecon plan"/.test(e.message),
    );
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, 'sku,warehouse\n');
    assert.throws(
      () => openPlan(garbage),
      (e: unknown) => e instanceof InputError && /not an invrecon plan/.test(e.message),
    );
    const otherJson = join(dir, 'other.json');
    writeFileSync(otherJson, '{"x": 1}\n');
    assert.throws(
      () => openPlan(otherJson),
      (e: unknown) => e instanceof InputError && /not an invrecon plan \(its header has no formatVersion\)/.test(e.message) && !/undefined/.test(e.message),
    );
  });

  it('pages through the rows that match a SKU glob and a location, counting the rest', () => {
    const { path } = write('page.json');
    const file = openPlan(path);
    const page = pagePlan(file, { sku: 'TEE-*' }, 1);
    assert.deepEqual(
      page.changes.map((c) => c.sku),
      ['TEE-RED-M'],
    );
    assert.deepEqual(page.matching, { changes: 2, erpCorrections: 0 });
    assert.deepEqual(pagePlan(file, { location: 'Store' }, 10).matching, { changes: 2, erpCorrections: 1 });
    assert.throws(() => pagePlan(file, { location: 'Nowhere' }, 10), /the plan has no such location/);
  });

  it('matches SKUs as SQLite GLOB does', () => {
    assert.ok(globMatcher('TEE-*')('TEE-RED'));
    assert.ok(!globMatcher('TEE-*')('tee-red'));
    assert.ok(globMatcher('A?C')('ABC'));
    assert.ok(globMatcher('[AB]-1')('B-1'));
    assert.ok(!globMatcher('[^AB]-1')('B-1'));
    assert.ok(globMatcher('a.b+(c)')('a.b+(c)'));
  });
});
