import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator, type Seed, type StartEmulatorOptions } from '../../src/emulator/index.js';
import { demoDir, runCli, TEST_TOKEN, tempDir, type CliResult } from './cli.js';
import { rng } from './generate.js';

export { TEST_TOKEN };

/** The demo's files (config, ERP export, bundles), the config patched as asked. */
export function demoFiles(patch: (config: Record<string, any>) => void = () => undefined): Record<string, string> {
  const config = JSON.parse(readFileSync(join(demoDir, 'invrecon.config.json'), 'utf8')) as Record<string, any>;
  delete config.$schema;
  patch(config);
  const copy = (name: string) => readFileSync(join(demoDir, name), 'utf8');
  return { 'invrecon.config.json': JSON.stringify(config, null, 2), 'erp.csv': copy('erp.csv'), 'bundles.csv': copy('bundles.csv') };
}

/** A temporary copy of fixtures/demo, the config patched as asked. */
export function demoWorkspace(patch?: (config: Record<string, any>) => void): { dir: string; cleanup(): void } {
  const workspace = tempDir('invrecon-demo-');
  for (const [name, text] of Object.entries(demoFiles(patch))) writeFileSync(join(workspace.dir, name), text);
  return workspace;
}

/** A workspace (config, ERP export, bundles) and an in-process emulator the CLI talks to. */
export interface ShopWorkspace {
  dir: string;
  emulator: RunningEmulator;
  /** Runs bin/invrecon.js in the workspace, pointed at the emulator. */
  cli(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  close(): Promise<void>;
}

export async function openShopWorkspace(options: {
  seed: Seed;
  files?: Record<string, string>;
  demo?: boolean;
  emulator?: Omit<StartEmulatorOptions, 'seed'>;
}): Promise<ShopWorkspace> {
  const workspace = tempDir('invrecon-shop-');
  const files = { ...(options.demo ? demoFiles() : {}), ...options.files };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(workspace.dir, name), text);
  const emulator = await startEmulator({ seed: options.seed, port: 0, ...options.emulator });
  return {
    dir: workspace.dir,
    emulator,
    cli: (args, env = {}) => runCli(args, { cwd: workspace.dir, env: { SHOPIFY_ADMIN_TOKEN: TEST_TOKEN, INVRECON_SHOPIFY_ENDPOINT: emulator.url, ...env } }),
    close: async () => {
      await emulator.close();
      workspace.cleanup();
    },
  };
}

export interface GeneratedShop {
  seed: Seed;
  erpCsv: string;
  config: Record<string, unknown>;
}

/**
 * A shop of `items` SKUs at `locations` locations whose ERP export disagrees with Shopify on most levels
 * (one warehouse per location, no safety stock), deterministic for a given seed.
 */
export function generateShop(items: number, locations: number, seed = 7): GeneratedShop {
  const random = rng(seed);
  const locs = Array.from({ length: locations }, (_, i) => ({ id: `gid://shopify/Location/${i + 1}`, name: `Location ${i + 1}` }));
  const seedItems = [];
  const erpLines = ['sku,warehouse,on_hand,reserved'];
  for (let i = 0; i < items; i++) {
    const sku = `SKU-${String(i).padStart(5, '0')}`;
    const levels = locs.map((l, j) => {
      const available = 20 + Math.floor(random() * 40);
      erpLines.push(`${sku},WH-${j + 1},${available + Math.floor(random() * 11) - 5},0`);
      return { locationId: l.id, available, on_hand: available };
    });
    seedItems.push({ sku, inventoryItemId: `gid://shopify/InventoryItem/${1000 + i}`, levels });
  }
  return {
    seed: { locations: locs, items: seedItems },
    erpCsv: erpLines.join('\n') + '\n',
    config: {
      shopify: { shop: 'test-shop.myshopify.com' },
      erp: { csv: { path: 'erp.csv' } },
      locations: locs.map((l, j) => ({ warehouses: [`WH-${j + 1}`], shopifyLocation: l.name })),
      guards: { maxChanges: 1_000_000, maxZeroedShare: 0.5, maxRowDrop: 0.5 },
    },
  };
}

export function generatedFiles(shop: GeneratedShop): Record<string, string> {
  return { 'invrecon.config.json': JSON.stringify(shop.config, null, 2), 'erp.csv': shop.erpCsv };
}
