// Bulk pull of a generated shop: starts `invrecon emulator --generate ITEMSxLOCATIONS` as its own
// process, runs `invrecon pull shopify --bulk` as a child, and prints the wall time and the pull's
// peak RSS (from /usr/bin/time -v when present, else VmHWM polled from /proc).
// Usage: npx tsx bench/pull-shopify-bulk.ts [100000x10]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const shape = process.argv[2] ?? '100000x10';
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'invrecon.js');
const out = join(root, 'bench', 'out', `pull-shopify-bulk-${shape}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'invrecon.config.json'),
  JSON.stringify({
    shopify: { shop: 'bench.myshopify.com' },
    erp: { csv: { path: 'erp.csv' } },
    locations: [{ warehouses: ['WH-A'], shopifyLocation: 'Location 1' }],
  }),
);

const emulator = spawn(process.execPath, [bin, 'emulator', '--port', '0', '--generate', shape], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: emulator.stdout }).once('line', resolve);
  emulator.once('close', (code) => reject(new Error(`emulator exited (${code})`)));
});
console.error(`emulator at ${url} (${shape})`);

function peakFromProc(pid: number, sample: (kb: number) => void): NodeJS.Timeout {
  return setInterval(() => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) sample(Number(match[1]));
    } catch {
      // the process has exited
    }
  }, 50);
}

const useTime = existsSync('/usr/bin/time');
const args = ['pull', 'shopify', '--bulk', '--format', 'json'];
const env = { ...process.env, SHOPIFY_ADMIN_TOKEN: 'shpat_bench_token', INVRECON_SHOPIFY_ENDPOINT: url };
const started = process.hrtime.bigint();
const child = useTime
  ? spawn('/usr/bin/time', ['-v', process.execPath, bin, ...args], { cwd: out, env })
  : spawn(process.execPath, [bin, ...args], { cwd: out, env });
let stdout = '';
let stderr = '';
child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
let procPeakKb = 0;
const poller = useTime ? undefined : peakFromProc(child.pid!, (kb) => (procPeakKb = Math.max(procPeakKb, kb)));
const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
if (poller) clearInterval(poller);
emulator.kill('SIGTERM');
if (code !== 0) {
  console.error(stderr);
  throw new Error(`pull shopify exited ${code}`);
}
const timePeak = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
const peakMb = (timePeak ? Number(timePeak[1]) : procPeakKb) / 1024;
const json = JSON.parse(stdout) as { rows: number; items: number; calls: number; durationMs: number };
const dbBytes = statSync(join(out, '.invrecon', 'snapshot.db')).size;
console.log(`pull shopify --bulk, ${shape}: ${json.rows.toLocaleString('en-US')} levels, ${json.items.toLocaleString('en-US')} items, ${json.calls} calls`);
console.log(`wall time ${(wallMs / 1000).toFixed(1)} s (pull's own durationMs ${(json.durationMs / 1000).toFixed(1)} s)`);
console.log(`peak RSS ${peakMb.toFixed(0)} MB (${timePeak ? '/usr/bin/time -v' : '/proc VmHWM'}; target ≤ 250 MB)`);
console.log(`snapshot database ${(dbBytes / 1e6).toFixed(0)} MB`);
