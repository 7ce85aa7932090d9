import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The package root, found from this file whether it runs from src/ (tsx) or dist/ (built).
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('invrecon: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();
export const migrationsDir = join(packageRoot, 'src', 'store', 'migrations');
export const fixturesDir = join(packageRoot, 'fixtures');
