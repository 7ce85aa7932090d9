import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { schemaFiles } from '../../../scripts/gen-schema.js';
import { repoRoot } from '../../helpers/cli.js';

describe('published JSON Schemas (schema/)', () => {
  it('are what "npm run schema" writes: run it after changing a definition', () => {
    const files = schemaFiles();
    for (const [path, text] of files) {
      let onDisk = '';
      try {
        onDisk = readFileSync(join(repoRoot, path), 'utf8');
      } catch {
        assert.fail(`${path} is missing: run "npm run schema"`);
      }
      assert.equal(onDisk, text, `${path} is out of date: run "npm run schema"`);
    }
    const published = readdirSync(join(repoRoot, 'schema', 'output')).map((f) => join('schema', 'output', f));
    assert.deepEqual(
      published.sort(),
      [...files.keys()].filter((p) => p.startsWith(join('schema', 'output'))).sort(),
      'schema/output holds a file no definition writes',
    );
  });

  it('every output schema requires schemaVersion', () => {
    for (const [path, text] of schemaFiles()) {
      if (!path.includes('output')) continue;
      const schema = JSON.parse(text) as { required: string[]; properties: { schemaVersion: { const: number } } };
      assert.ok(schema.required.includes('schemaVersion'), path);
      assert.equal(schema.properties.schemaVersion.const, 1, path);
    }
  });
});
