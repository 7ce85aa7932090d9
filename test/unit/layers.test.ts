import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, tempDir } from '../helpers/cli.js';

// The layer rules of .dependency-cruiser.cjs, run on a small tree of the same folders: every wrong
// import is rejected by the rule that names it, and every right one passes.

const depcruise = join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** file → its source; each file exports one value so that value imports are real. */
const tree: Record<string, string> = {
  'src/errors.ts': `export const e = 1;`,
  'src/text.ts': `import { e } from './errors.js';\nexport const t = e;`,
  'src/config/load.ts': `import { e } from '../errors.js';\nexport const c = e;`,
  'src/store/db.ts': `import { c } from '../config/load.js';\nexport const s = c;`,
  'src/sources/erp/rows.ts': `import { s } from '../../store/db.js';\nimport { c } from '../../config/load.js';\nexport const r = s + c;`,
  'src/reconcile/rules.ts': `import { r } from '../sources/erp/rows.js';\nimport { s } from '../store/db.js';\nexport const rule = r + s;`,
  'src/plan/build.ts': `import { rule } from '../reconcile/rules.js';\nimport { r } from '../sources/erp/rows.js';\nexport const p = rule + r;`,
  'src/ops/sync.ts': `import { p } from '../plan/build.js';\nimport { emu } from '../emulator/server.js';\nexport const o = p + emu;`,
  'src/views/diff.ts': `import type { rule } from '../reconcile/rules.js';\nimport { common } from './common.js';\nexport const v: typeof rule = common;`,
  'src/views/common.ts': `import { t } from '../text.js';\nexport const common = t;`,
  'src/views/inline-type.ts': `import { type rule } from '../reconcile/rules.js';\nexport const i: typeof rule = 1;`,
  'src/cli/main.ts': `import { o } from '../ops/sync.js';\nimport { v } from '../views/diff.js';\nimport { emu } from '../emulator/server.js';\nexport const cli = o + v + emu;`,
  'src/emulator/server.ts': `import { seed } from './seed.js';\nexport const emu = seed;`,
  'src/emulator/seed.ts': `export const seed = 1;`,
  // Types may refer to each other both ways (the cli's ExitCodeSink): no module runs the other.
  'src/cli/types-a.ts': `import type { B } from './types-b.js';\nexport type A = { b?: B };`,
  'src/cli/types-b.ts': `import type { A } from './types-a.js';\nexport type B = { a?: A };`,
  // The wrong ones.
  'src/reconcile/wrong-view.ts': `import { common } from '../views/common.js';\nexport const w1 = common;`,
  'src/store/wrong-source.ts': `import type { r } from '../sources/erp/rows.js';\nexport const w2: typeof r = 1;`,
  'src/emulator/wrong-errors.ts': `import { e } from '../errors.js';\nexport const w3 = e;`,
  'src/ops/wrong-cli.ts': `import { cli } from '../cli/main.js';\nexport const w4 = cli;`,
  'src/views/wrong-call.ts': `import { rule } from '../reconcile/rules.js';\nexport const w5 = rule;`,
  'src/plan/wrong-ops.ts': `import { o } from '../ops/sync.js';\nexport const w6 = o;`,
  'src/wrong-base.ts': `import { c } from './config/load.js';\nexport const w7 = c;`,
  'src/config/wrong-store.ts': `import { s } from '../store/db.js';\nexport const w8 = s;`,
  'src/sources/shopify/wrong-reconcile.ts': `import { rule } from '../../reconcile/rules.js';\nexport const w9 = rule;`,
  'src/reconcile/wrong-plan.ts': `import { p } from '../plan/build.js';\nexport const w10 = p;`,
  'src/store/cycle-a.ts': `import { b } from './cycle-b.js';\nexport const a = 1;\nexport const ab = b;`,
  'src/store/cycle-b.ts': `import { a } from './cycle-a.js';\nexport const b = a;`,
};

const expected = [
  'emulator-self-contained: src/emulator/wrong-errors.ts → src/errors.ts',
  'layer-base: src/wrong-base.ts → src/config/load.ts',
  'layer-config: src/config/wrong-store.ts → src/store/db.ts',
  'layer-ops: src/ops/wrong-cli.ts → src/cli/main.ts',
  'layer-plan: src/plan/wrong-ops.ts → src/ops/sync.ts',
  'layer-reconcile: src/reconcile/wrong-plan.ts → src/plan/build.ts',
  'layer-reconcile: src/reconcile/wrong-view.ts → src/views/common.ts',
  'layer-sources: src/sources/shopify/wrong-reconcile.ts → src/reconcile/rules.ts',
  'layer-store: src/store/wrong-source.ts → src/sources/erp/rows.ts',
  'no-circular: src/store/cycle-a.ts → src/store/cycle-b.ts',
  'views-import-types-only: src/views/wrong-call.ts → src/reconcile/rules.ts',
];

interface CruiseResult {
  summary: { violations: { rule: { name: string }; from: string; to: string }[] };
}

describe('import layers (.dependency-cruiser.cjs)', () => {
  it('rejects each wrong import with the rule that names it, and passes the right ones', async () => {
    const { dir, cleanup } = tempDir('invrecon-layers-');
    try {
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
      for (const [file, source] of Object.entries(tree)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), `${source}\n`);
      }
      const run = await promisify(execFile)(
        process.execPath,
        [depcruise, 'src', '--config', join(repoRoot, '.dependency-cruiser.cjs'), '--output-type', 'json'],
        {
          cwd: dir,
          maxBuffer: 16 * 1024 * 1024,
        },
      ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
      const result = JSON.parse(run.stdout) as CruiseResult;
      const found = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
      assert.deepEqual(found, expected);
    } finally {
      cleanup();
    }
  });
});
