// The emulator's CPU per inventory call, as an apply spends it: `invrecon emulator --generate` in its own process
// (NODE_ENV=production, a bucket that never throttles, no latency unless asked), driven over HTTP with the tool's own documents:
// 250-row inventorySetQuantities calls with compare-and-swap, the same calls replayed by key, 250-row
// inventoryAdjustQuantities calls, and 250-id stale re-reads. Prints the emulator's CPU (from /proc) per call and
// rows per emulator CPU second, per phase, and a digest of every answer (byte-for-byte checks across changes).
// Usage: npx tsx bench/emulator-writes.ts [setCalls=4000] [--others 400] [--size 100000x10] [--concurrency 4] [--latency-ms 0] [--profile DIR] [--bin PATH]
// (4,000 set calls of 250 rows are the million changes of bench/apply-plus.ts; --others: calls of each later phase.)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateSeedItems } from '../src/emulator/index.js';
import { AVAILABLE_AT_LOCATION, INVENTORY_ADJUST_QUANTITIES, INVENTORY_SET_QUANTITIES } from '../src/sources/shopify/documents.js';
import { readCpuMs } from '../test/helpers/measure.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1]! : fallback;
};
const [items, locations] = flag('--size', '100000x10').split('x').map(Number) as [number, number];
const concurrency = Number(flag('--concurrency', '4'));
const profile = flag('--profile', '');
// An apply at a real store's pace: e.g. --latency-ms 500 --concurrency 128 (what bench/apply-plus.ts keeps in flight).
const latencyMs = flag('--latency-ms', '0');
// Another build's bin/invrecon.js (e.g. an older commit's checkout) to compare with.
const bin = flag('--bin', join(new URL('..', import.meta.url).pathname, 'bin', 'invrecon.js'));
const othersFlag = Number(flag('--others', '400'));
const calls = Number(args[0] ?? 4000);
const others = Math.min(calls, othersFlag);
const ROWS = 250;

const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
const emulator = spawn(
  process.execPath,
  [
    ...nodeArgs,
    bin,
    'emulator',
    '--port',
    '0',
    '--generate',
    `${items}x${locations}`,
    '--max-available',
    '1000000000',
    '--restore-rate',
    '1000000000',
    '--latency-ms',
    latencyMs,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } },
);
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: emulator.stdout }).once('line', resolve);
  emulator.once('close', (code) => reject(new Error(`emulator exited (${code})`)));
});
const endpoint = `${url}/admin/api/2026-04/graphql.json`;

// The generated shop's levels (the same generator, seed 1): level n is item ⌊n / locations⌋ at location n mod locations.
const itemIds: string[] = [];
const available: number[] = [];
const locationIds: string[] = [];
for (const item of generateSeedItems({ items, locations, seed: 1 })) {
  itemIds.push(item.inventoryItemId);
  for (const level of item.levels!) {
    if (itemIds.length === 1) locationIds.push(level.locationId);
    available.push(level.available ?? 0);
  }
}

const digest = createHash('sha256');
async function post(query: string, variables: Record<string, unknown>): Promise<void> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-access-token': 'shpat_bench' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  if (response.status !== 200 || text.includes('"errors"') || /"userErrors":\[\{/.test(text))
    throw new Error(`unexpected answer ${response.status}: ${text.slice(0, 500)}`);
  digest.update(text);
}

/** Runs `count` calls, `concurrency` at a time, and prints the emulator's CPU they cost. */
async function phase(name: string, count: number, rowsPerCall: number, call: (i: number) => Promise<void>): Promise<void> {
  const before = readCpuMs(emulator.pid!)!;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await call(next++);
    }),
  );
  const cpuMs = readCpuMs(emulator.pid!)! - before;
  const wallMs = performance.now() - started;
  console.log(
    `${name.padEnd(34)} ${count} calls: emulator CPU ${(cpuMs / count).toFixed(2)} ms/call, ${Math.round((count * rowsPerCall) / (cpuMs / 1000)).toLocaleString('en-US')} rows per CPU s (wall ${(wallMs / 1000).toFixed(1)} s)`,
  );
}

const levelCount = items * locations;
// Consecutive levels from `offset`, wrapping around the shop; `available` follows every write sent.
const levelsOf = (call: number, offset: number) => Array.from({ length: ROWS }, (_, r) => (offset + call * ROWS + r) % levelCount);
const rowIds = (level: number) => ({ inventoryItemId: itemIds[Math.floor(level / locations)]!, locationId: locationIds[level % locations]! });
const setVariables = (i: number) => ({
  idempotencyKey: `bench-set-${i}`,
  referenceDocumentUri: 'invrecon://bench/emulator-writes',
  quantities: levelsOf(i, 0).map((level) => {
    const from = available[level]!;
    available[level] = from + 3;
    return { ...rowIds(level), quantity: from + 3, changeFromQuantity: from };
  }),
});
const sentSets: Record<string, unknown>[] = [];

const load = loadavg()[0]!;
// Warm-up (JIT, caches) at the far end of the shop.
const warm = levelCount - 20 * ROWS;
for (let i = 0; i < 20; i++)
  await post(INVENTORY_SET_QUANTITIES, {
    idempotencyKey: `bench-warm-${i}`,
    quantities: levelsOf(i, warm).map((level) => {
      const from = available[level]!;
      available[level] = from + 1;
      return { ...rowIds(level), quantity: from + 1, changeFromQuantity: from };
    }),
  });
await phase('inventorySetQuantities (CAS)', calls, ROWS, (i) => {
  const variables = setVariables(i);
  if (i < others) sentSets[i] = variables;
  return post(INVENTORY_SET_QUANTITIES, variables);
});
await phase('inventorySetQuantities replayed', others, ROWS, (i) => post(INVENTORY_SET_QUANTITIES, sentSets[i]!));
await phase('inventoryAdjustQuantities (CAS)', others, ROWS, (i) =>
  post(INVENTORY_ADJUST_QUANTITIES, {
    idempotencyKey: `bench-adjust-${i}`,
    referenceDocumentUri: null,
    changes: levelsOf(i, calls * ROWS).map((level) => {
      const from = available[level]!;
      available[level] = from - 1;
      return { ...rowIds(level), delta: -1, changeFromQuantity: from };
    }),
  }),
);
await phase('stale re-read (nodes by ids)', others, ROWS, (i) =>
  post(AVAILABLE_AT_LOCATION, {
    ids: Array.from({ length: ROWS }, (_, r) => itemIds[(i * ROWS + r) % items]!),
    locationId: locationIds[i % locations]!,
  }),
);
console.log(
  `answers' sha256 ${digest.digest('hex').slice(0, 16)}${concurrency > 1 ? ' (concurrency > 1: group ids may interleave, use --concurrency 1 to compare)' : ''}; load average ${load.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`,
);
emulator.kill('SIGTERM');
await once(emulator, 'close');
if (profile) console.log(`profile written to ${profile}`);
