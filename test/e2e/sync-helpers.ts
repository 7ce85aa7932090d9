// Shared by the operations e2e tests (sync, status, report): a spawned emulator and a demo workspace.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { demoDir, runCli, TEST_TOKEN as TOKEN, type CliResult } from '../helpers/cli.js';
import { spawnEmulatorProcess } from '../helpers/emulator-process.js';

// The one test token and demo workspace, under the names the ops tests know them by.
export { TOKEN };
export { demoWorkspace } from '../helpers/shop.js';

export interface SpawnedEmulator {
  url: string;
  levels(): Promise<Map<string, number>>;
  setFaults(faults: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

/** `invrecon emulator --port 0` on the demo shop; resolves with its URL (first stdout line). */
export async function spawnEmulator(args: string[] = []): Promise<SpawnedEmulator> {
  const emulator = await spawnEmulatorProcess(['--port', '0', '--token', TOKEN, '--seed', join(demoDir, 'shop.json'), ...args]);
  const url = emulator.url;
  return {
    url,
    async levels() {
      const state = (await (await fetch(`${url}/_emulator/state`)).json()) as {
        levels: { sku: string; locationId: string; quantities: { available: number } }[];
      };
      return new Map(state.levels.map((l) => [`${l.sku}@${l.locationId.replace('gid://shopify/Location/', 'L')}`, l.quantities.available]));
    },
    async setFaults(faults) {
      const response = await fetch(`${url}/_emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`faults: HTTP ${response.status}`);
    },
    stop: async () => void (await emulator.stop()),
  };
}

export function cliEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return { SHOPIFY_ADMIN_TOKEN: TOKEN, INVRECON_SHOPIFY_ENDPOINT: url, ...extra };
}

export function sync(dir: string, url: string, args: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['sync', ...args], { cwd: dir, env: cliEnv(url, env) });
}

/** Reads the runs table directly, as a monitoring tool would. */
export function runsOf(dir: string): { id: number; outcome: string; finished_at: string | null; summary: any }[] {
  const db = new Database(join(dir, '.invrecon', 'snapshot.db'), { readonly: true });
  try {
    return (
      db.prepare("SELECT id, outcome, finished_at, summary FROM runs WHERE command = 'sync' ORDER BY id").all() as {
        id: number;
        outcome: string;
        finished_at: string | null;
        summary: string;
      }[]
    ).map((r) => ({ ...r, summary: JSON.parse(r.summary) }));
  } finally {
    db.close();
  }
}

/** The targets the demo ERP export asks for, per SKU@location, as the demo diff shows them. */
export const DEMO_TARGETS: Record<string, number> = {
  'TEE-RED-M@L1': 13,
  'GIFT-SET@L1': 12,
  'MUG-WHT@L1': 24,
  'CAP-BLK@L1': 0,
  'TEE-RED-M@L2': 2,
  'TEE-RED-L@L2': 0,
  'GIFT-SET@L2': 2,
};
