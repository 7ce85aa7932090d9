// A large shop for the issue-16 benches: `invrecon emulator --generate ITEMSxLOCATIONS` as its own process,
// an ERP export where EVERY level differs from Shopify (a first sync), a config mapping WH-001… to
// "Location 001"…, and the CLI run as a child process with its wall time and peak RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateSeedItems } from '../src/emulator/index.js';
import { measure, type Measured } from '../test/helpers/measure.js';

export const root = new URL('..', import.meta.url).pathname;
export const bin = join(root, 'bin', 'invrecon.js');
export const TOKEN = 'shpat_bench_token';

export interface LargeShop {
  dir: string;
  items: number;
  locations: number;
  url: string;
  emulator: ChildProcess;
  env: NodeJS.ProcessEnv;
  /** Runs the CLI in the shop's folder; throws unless it exits with one of `codes`. */
  cli(args: string[], codes?: number[], nodeArgs?: string[]): Promise<Measured>;
  close(): void;
}

/** The emulator's arguments for a latency per call and a cost bucket. */
export function limitArgs(latencyMs: number, bucket: { maximumAvailable: number; restoreRate: number }): string[] {
  return ['--latency-ms', String(latencyMs), '--max-available', String(bucket.maximumAvailable), '--restore-rate', String(bucket.restoreRate)];
}

/** Starts the emulator and writes the ERP export and config. `emulatorArgs`: e.g. --latency-ms 500. */
export async function openLargeShop(name: string, items: number, locations: number, emulatorArgs: string[] = []): Promise<LargeShop> {
  const dir = join(root, 'bench', 'out', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const emulator = spawn(process.execPath, [bin, 'emulator', '--port', '0', '--generate', `${items}x${locations}`, ...emulatorArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: emulator.stdout }).once('line', resolve);
    emulator.once('close', (code) => reject(new Error(`emulator exited (${code})`)));
  });
  await writeDriftingErp(join(dir, 'erp.csv'), items, locations);
  const code = (i: number) => String(i + 1).padStart(3, '0');
  writeFileSync(
    join(dir, 'invrecon.config.json'),
    JSON.stringify({
      shopify: { shop: 'bench.myshopify.com' },
      erp: { csv: { path: 'erp.csv' } },
      locations: Array.from({ length: locations }, (_, i) => ({ warehouses: [`WH-${code(i)}`], shopifyLocation: `Location ${code(i)}` })),
      guards: { maxChanges: items * locations, maxZeroedShare: 1, maxRowDrop: 0.5 },
    }),
  );
  const env = { ...process.env, SHOPIFY_ADMIN_TOKEN: TOKEN, INVRECON_SHOPIFY_ENDPOINT: url, NO_COLOR: '1' };
  return {
    dir,
    items,
    locations,
    url,
    emulator,
    env,
    async cli(args, codes = [0], nodeArgs = []) {
      const result = await measure(process.execPath, [...nodeArgs, bin, ...args], { cwd: dir, env });
      if (!codes.includes(result.code ?? -1)) throw new Error(`invrecon ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(-2000)}`);
      return result;
    },
    close() {
      emulator.kill('SIGTERM');
    },
  };
}

/** The emulator's generated levels, with the ERP's on hand 1..5 above Shopify's available at every one. */
async function writeDriftingErp(path: string, items: number, locations: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('sku,warehouse,on_hand,reserved\n');
  let buffer = '';
  let n = 0;
  for (const item of generateSeedItems({ items, locations, seed: 1 })) {
    (item.levels ?? []).forEach((level, i) => {
      // The generator numbers locations from 1001: Location 001 is gid://shopify/Location/1001.
      buffer += `${item.sku},WH-${String(i + 1).padStart(3, '0')},${(level.available ?? 0) + 1 + (n++ % 5)},0\n`;
    });
    if (buffer.length > 1 << 16) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}

export const mb = (m: Measured) => `${(m.peakRssMb ?? 0).toFixed(0)} MB`;
export const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
