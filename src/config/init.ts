import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import { fixturesDir, packageRoot } from '../paths.js';

const SAMPLES = ['erp.csv', 'bundles.csv', 'shop.json'] as const;

/**
 * Writes a starter config (the demo's, pointing at the shipped JSON Schema) and the sample files
 * beside it. Refuses when any of them exists, before writing anything.
 */
export function initWorkspace(configPathArg: string): string[] {
  const configPath = resolve(configPathArg);
  const dir = dirname(configPath);
  const targets = [configPath, ...SAMPLES.map((file) => join(dir, file))];
  const existing = targets.filter((path) => existsSync(path));
  if (existing.length > 0) {
    throw new InputError(`refusing to overwrite existing file${existing.length > 1 ? 's' : ''}: ${existing.join(', ')}`);
  }
  const config = JSON.parse(readFileSync(join(fixturesDir, 'demo', 'invrecon.config.json'), 'utf8')) as Record<string, unknown>;
  config.$schema = relative(dir, join(packageRoot, 'schema', 'invrecon.config.schema.json'));
  // exclusive: a file that appeared meanwhile is still not overwritten. Samples are not secret: 0644.
  writeFileAtomic(configPath, JSON.stringify(config, null, 2) + '\n', { what: 'config', exclusive: true, mode: 0o644 });
  for (const file of SAMPLES)
    writeFileAtomic(join(dir, file), readFileSync(join(fixturesDir, 'demo', file)), { what: 'sample file', exclusive: true, mode: 0o644 });
  return targets;
}
