import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, constants } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { InputError } from '../errors.js';
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
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(fixturesDir, 'demo', 'invrecon.config.json'), 'utf8')) as Record<string, unknown>;
  config.$schema = relative(dir, join(packageRoot, 'schema', 'invrecon.config.schema.json'));
  // COPYFILE_EXCL / flag wx: a file that appeared meanwhile is still not overwritten.
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n', { flag: 'wx' });
  for (const file of SAMPLES) copyFileSync(join(fixturesDir, 'demo', file), join(dir, file), constants.COPYFILE_EXCL);
  return targets;
}
