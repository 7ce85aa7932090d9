import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateSeed, generateSeedSource, loadSeed, parseGenerateSpec, SeedError, startEmulator } from '../../../src/emulator/index.js';
import { tempDir } from '../../helpers/cli.js';
import { demoSeedPath } from './helpers.js';

function writeSeed(dir: string, value: unknown): string {
  const path = join(dir, 'seed.json');
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

const location = { id: 'gid://shopify/Location/1', name: 'Main' };

describe('emulator seed', () => {
  it('loads the demo shop', () => {
    const seed = loadSeed(demoSeedPath);
    assert.equal(seed.locations.length, 3);
    assert.equal(seed.items.length, 9);
  });

  it('fills missing quantities with 0 and computes on_hand from its parts', async () => {
    const seed = {
      locations: [location],
      items: [
        {
          sku: 'A',
          inventoryItemId: 'gid://shopify/InventoryItem/1',
          levels: [{ locationId: location.id, available: 3, committed: 1, reserved: 2, damaged: 1, safety_stock: 1, quality_control: 1, incoming: 9 }],
        },
      ],
    };
    const emulator = await startEmulator({ seed });
    try {
      assert.deepEqual(emulator.state.level('gid://shopify/InventoryItem/1', location.id), {
        available: 3,
        on_hand: 9,
        committed: 1,
        reserved: 2,
        incoming: 9,
        damaged: 1,
        safety_stock: 1,
        quality_control: 1,
      });
    } finally {
      await emulator.close();
    }
  });

  it('names the file, line and column of a JSON syntax error', () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = writeSeed(dir, '{\n  "locations": [],\n  "items": [,]\n}');
      assert.throws(
        () => loadSeed(path),
        (error: unknown) => error instanceof SeedError && error.message.includes(`${path}:3:`),
      );
    } finally {
      cleanup();
    }
  });

  it('names every bad field by path', () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = writeSeed(dir, {
        locations: [{ id: 'Location/1', name: 'Main' }],
        items: [{ sku: 'A', inventoryItemId: 'gid://shopify/InventoryItem/1', levels: [{ locationId: 'x', available: 1.5, colour: 'red' }] }],
      });
      assert.throws(
        () => loadSeed(path),
        (error: unknown) => {
          assert.ok(error instanceof SeedError);
          const details = error.details.join('\n');
          assert.match(details, /locations\[0\]\.id: expected gid:\/\/shopify\/Location\/<id>/);
          assert.match(details, /items\[0\]\.levels\[0\]\.available/);
          assert.match(details, /items\[0\]\.levels\[0\]/);
          assert.match(details, /colour/);
          return true;
        },
      );
    } finally {
      cleanup();
    }
  });

  it('refuses unknown locations, duplicates and an on_hand that contradicts its parts', async () => {
    const item = (levels: object[], id = 'gid://shopify/InventoryItem/1') => ({ sku: 'A', inventoryItemId: id, levels });
    const cases: [object, RegExp][] = [
      [
        { locations: [location], items: [item([{ locationId: 'gid://shopify/Location/2', available: 1 }])] },
        /items\[0\]\.levels\[0\]\.locationId gid:\/\/shopify\/Location\/2 is not one of the seed's locations/,
      ],
      [{ locations: [location, location], items: [] }, /locations\[1\]\.id .* appears twice/],
      [{ locations: [location], items: [item([]), item([])] }, /items\[1\]\.inventoryItemId .* appears twice/],
      [{ locations: [location], items: [item([{ locationId: location.id }, { locationId: location.id }])] }, /stocked twice/],
      [
        { locations: [location], items: [item([{ locationId: location.id, available: 5, on_hand: 7 }])] },
        /items\[0\]\.levels\[0\]\.on_hand is 7, but available \+ committed .* is 5/,
      ],
    ];
    for (const [seed, pattern] of cases) {
      await assert.rejects(startEmulator({ seed: seed as never }), (error: unknown) => error instanceof SeedError && pattern.test(error.message));
    }
  });

  it('generates the same shop from the same seed, lazily or as arrays', () => {
    const a = generateSeed({ items: 50, locations: 3, seed: 5 });
    const b = generateSeed({ items: 50, locations: 3, seed: 5 });
    const c = generateSeed({ items: 50, locations: 3, seed: 6 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(a.items.length, 50);
    assert.equal(a.items[0]!.levels!.length, 3);
    assert.deepEqual([...generateSeedSource({ items: 50, locations: 3, seed: 5 }).items], a.items);
    for (const item of a.items) for (const level of item.levels!) assert.equal(level.on_hand, level.available! + level.committed!);
    assert.equal(new Set(a.items.map((item) => item.sku)).size, 50);
  });

  it('parses --generate ITEMSxLOCATIONS', () => {
    assert.deepEqual(parseGenerateSpec('100000x10'), { items: 100000, locations: 10 });
    assert.throws(() => parseGenerateSpec('100000'), /ITEMSxLOCATIONS/);
    assert.throws(() => parseGenerateSpec('10x0'), /locations must be between 1 and 1000/);
  });
});
