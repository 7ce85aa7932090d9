// Writes the published JSON Schemas (run: npm run schema): the config's, from the zod definition that
// validates it, and one per --format json output under schema/output/, from src/views/schemas.ts.
// test/unit/cli/schemas.test.ts fails when the files are not what this script writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { configJsonSchema } from '../src/config/json-schema.js';
import { packageRoot } from '../src/paths.js';
import { outputJsonSchema, outputSchemas, type OutputName } from '../src/views/schemas.js';

/** Every generated file: path under the package root → its content. */
export function schemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  files.set(join('schema', 'invrecon.config.schema.json'), JSON.stringify(configJsonSchema(), null, 2) + '\n');
  for (const name of Object.keys(outputSchemas) as OutputName[]) {
    files.set(join('schema', 'output', `${name}.schema.json`), JSON.stringify(outputJsonSchema(name), null, 2) + '\n');
  }
  return files;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  mkdirSync(join(packageRoot, 'schema', 'output'), { recursive: true });
  for (const [path, text] of schemaFiles()) writeFileSync(join(packageRoot, path), text);
}
