// Apply of N changes against the emulator, at Standard limits (bucket 2,000, 100 points/s) or Plus
// (bucket 20,000, 1,000/s), with a latency per call. Reports rows/s and the ratio to the rate-limit bound:
// max(0, calls × points per call − bucket) ÷ restore rate (the bucket starts full), plus the apply's
// peak memory (VmHWM of the CLI process).
// Usage: npx tsx bench/apply.ts [changes=100000] [--plus] [--latency-ms 500] [--warm (the install applied before)] [--max-in-flight N] [--profile DIR (a CPU profile of the apply)] [--node-arg=FLAG]
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readPlan } from '../src/plan/file.js';
import { binPath } from '../test/helpers/cli.js';
import { TEST_TOKEN, generateShop, generatedFiles, openShopWorkspace } from '../test/helpers/shop.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.indexOf(name);
const plus = flag('--plus') >= 0;
/** An install that has applied before (its copy of the shop's record is the one it wrote; a first apply's is its pull's). */
const warm = flag('--warm') >= 0;
const latencyMs = flag('--latency-ms') >= 0 ? Number(args[flag('--latency-ms') + 1]) : 500;
const target = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--latency-ms' && args[i - 1] !== '--max-in-flight') ?? 100_000);
const maxInFlight = flag('--max-in-flight') >= 0 ? ['--max-in-flight', args[flag('--max-in-flight') + 1]!] : [];
const profileDir = flag('--profile') >= 0 ? args[flag('--profile') + 1] : undefined;
/** A V8 or Node flag for the apply process only (e.g. --node-arg=--trace-gc: its stdout then goes to $CLI_STDOUT). */
const applyNodeArgs = args.filter((a) => a.startsWith('--node-arg=')).map((a) => a.slice('--node-arg='.length));
const bucket = plus ? { maximumAvailable: 20_000, restoreRate: 1000 } : { maximumAvailable: 2000, restoreRate: 100 };

/** Runs the CLI, polling its peak resident memory (VmHWM) until it exits. */
function runMeasured(
  cwd: string,
  cliArgs: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string; peakMb: number; cpuSeconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, binPath, ...cliArgs], { cwd, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    let cpuTicks = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const poll = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        if (hwm) peakKb = Math.max(peakKb, Number(hwm));
        // utime + stime (fields 14, 15), in clock ticks of 1/100 s.
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        cpuTicks = Number(fields[11]) + Number(fields[12]);
      } catch {
        // gone already
      }
    }, 100);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stdout, stderr, peakMb: peakKb / 1024, cpuSeconds: cpuTicks / 100 });
    });
  });
}

// ERP quantities differ from Shopify's on ~91% of levels: generate enough items for `target` changes.
const generated = generateShop(Math.ceil(target / 0.9), 1, 3);
const shop = await openShopWorkspace({ seed: generated.seed, files: generatedFiles(generated), emulator: { bucket } });
try {
  for (const step of [
    ['pull', 'erp'],
    ['pull', 'shopify', '--bulk'],
    ['plan', '--out', 'plan.json'],
  ]) {
    const result = await shop.cli(step);
    if (result.code !== 0) throw new Error(`${step.join(' ')}: ${result.stderr}`);
  }
  const changes = readPlan(join(shop.dir, 'plan.json')).changes.length;
  if (warm) {
    for (const step of [
      ['plan', '--sku', 'NO-SUCH-SKU', '--out', 'warm.json'],
      ['apply', 'warm.json', '--commit'],
    ]) {
      const result = await shop.cli(step);
      if (result.code !== 0) throw new Error(`${step.join(' ')}: ${result.stderr}`);
    }
  }
  // The bound assumes a full bucket at the start: let the pull's spending refill.
  await new Promise((resolve) => setTimeout(resolve, (bucket.maximumAvailable / bucket.restoreRate) * 1000 + 500));
  shop.emulator.state.setFaults({ latencyMs });
  const throttledBefore = shop.emulator.state.counters.throttled;
  const started = performance.now();
  const startedAt = Date.now();
  const emulatorCpu = process.cpuUsage();
  // The shop's bucket as it is, every 100 ms: what the apply leaves unspent while it runs.
  const bucketLevels: { at: number; available: number }[] = [];
  const sampler = setInterval(
    () => bucketLevels.push({ at: (Date.now() - startedAt) / 1000, available: shop.emulator.state.throttleStatus().currentlyAvailable }),
    100,
  );
  const result = await runMeasured(
    shop.dir,
    ['apply', 'plan.json', '--commit', '--format', 'json', ...maxInFlight],
    {
      SHOPIFY_ADMIN_TOKEN: TEST_TOKEN,
      INVRECON_SHOPIFY_ENDPOINT: shop.emulator.url,
    },
    [...applyNodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const emulatorCpuSeconds = (process.cpuUsage(emulatorCpu).user + process.cpuUsage(emulatorCpu).system) / 1e6;
  if (result.code !== 0) throw new Error(`apply: ${result.stderr}`);
  if (process.env.CLI_STDOUT) writeFileSync(process.env.CLI_STDOUT, result.stdout);
  // Anything a --node-arg printed comes before the result.
  const json = JSON.parse(result.stdout.slice(result.stdout.search(/^\{/m))) as {
    applied: number;
    conflicts: number;
    retries: number;
    peakInFlight: number;
    calls: number;
    durationMs: number;
  };
  const db = new Database(join(shop.dir, '.invrecon', 'snapshot.db'), { readonly: true });
  const calls = db.prepare("SELECT cost FROM audit_calls WHERE operation = 'InventorySetQuantities' AND outcome = 'applied'").pluck().all() as number[];
  // When the calls went (answer time less latency), from the process start: where the time went.
  const everyCall = (
    db.prepare('SELECT at, latency_ms, operation, cost FROM audit_calls ORDER BY id').all() as {
      at: string;
      latency_ms: number;
      operation: string;
      cost: number | null;
    }[]
  ).map((c) => ({
    operation: c.operation,
    cost: c.cost ?? 0,
    sent: (Date.parse(c.at) - c.latency_ms - startedAt) / 1000,
    answered: (Date.parse(c.at) - startedAt) / 1000,
    latency: c.latency_ms,
  }));
  const sends = everyCall.filter((c) => c.operation === 'InventorySetQuantities');
  const recordCalls = everyCall.filter((c) => c.operation.includes('AppliesRecord') && c.sent > 0);
  db.close();
  const points = calls.reduce((n, c) => n + c, 0);
  const boundSeconds = Math.max(0, points - bucket.maximumAvailable) / bucket.restoreRate;
  const plan = `${plus ? 'Plus (bucket 20,000, 1,000/s)' : 'Standard (bucket 2,000, 100/s)'}${warm ? ', an install that applied before' : ", an install's first apply"}`;
  console.log(
    `${plan}, ${latencyMs} ms per call: ${changes.toLocaleString('en-US')} changes in ${calls.length} calls (${(points / calls.length).toFixed(1)} points/call)`,
  );
  console.log(
    `applied ${json.applied}, conflicts ${json.conflicts}, retries ${json.retries}, throttled answers ${shop.emulator.state.counters.throttled - throttledBefore}, up to ${json.peakInFlight} calls in flight`,
  );
  console.log(`bound: ${boundSeconds.toFixed(1)} s = max(0, ${points} points − ${bucket.maximumAvailable}) ÷ ${bucket.restoreRate}/s`);
  console.log(
    `apply: ${seconds.toFixed(1)} s (process start to exit), ${(changes / seconds).toFixed(0)} rows/s = ${boundSeconds > 0 ? (boundSeconds / seconds).toFixed(2) : 'n/a (the bucket alone holds the plan)'} of the bound (target ≥ 0.9); peak memory ${result.peakMb.toFixed(0)} MB`,
  );
  const firstSent = Math.min(...sends.map((c) => c.sent));
  const lastAnswered = Math.max(...sends.map((c) => c.answered));
  const latencies = sends.map((c) => c.latency).sort((a, b) => a - b);
  const perSecond: number[] = [];
  for (const c of sends) perSecond[Math.max(0, Math.floor(c.sent))] = (perSecond[Math.max(0, Math.floor(c.sent))] ?? 0) + 1;
  console.log(
    `timeline: the shop record claimed in ${recordCalls.filter((c) => c.sent < firstSent).length} call(s) from ${Math.min(...recordCalls.map((c) => c.sent)).toFixed(2)} s to ${Math.min(...recordCalls.map((c) => c.answered)).toFixed(2)} s, first write sent at ${firstSent.toFixed(2)} s, last answered at ${lastAnswered.toFixed(1)} s, exit at ${seconds.toFixed(1)} s; latency p50 ${latencies[Math.floor(latencies.length / 2)]} ms, p90 ${latencies[Math.floor(latencies.length * 0.9)]} ms`,
  );
  console.log(`calls sent per second: ${Array.from(perSecond, (n) => n ?? 0).join(' ')}`);
  // The shop's bucket replayed from the calls' send times: refill lost while it was full is time lost.
  let level = bucket.maximumAvailable;
  let at = 0;
  let fullBefore = 0;
  let fullLater = 0;
  for (const c of [...everyCall].sort((a, b) => a.sent - b.sent)) {
    const refill = Math.max(0, c.sent - at) * bucket.restoreRate;
    const lost = Math.max(0, level + refill - bucket.maximumAvailable) / bucket.restoreRate;
    if (c.sent <= firstSent) fullBefore += lost;
    else fullLater += lost;
    level = Math.min(bucket.maximumAvailable, level + refill) - c.cost;
    at = Math.max(at, c.sent);
  }
  console.log(
    `time lost: ${fullBefore.toFixed(1)} s with a full bucket before the first write, ${fullLater.toFixed(1)} s with a full bucket after it, ${(Math.max(0, level) / bucket.restoreRate).toFixed(1)} s of points left when the last call went, ${(seconds - Math.max(...everyCall.map((c) => c.sent))).toFixed(1)} s from the last call sent to the exit`,
  );
  // The shop's own bucket, sampled: points it held each second (a paced apply keeps it near empty once drained).
  const bySecond = new Map<number, number>();
  for (const b of bucketLevels) if (!bySecond.has(Math.floor(b.at))) bySecond.set(Math.floor(b.at), Math.round(b.available));
  console.log(`the shop's bucket at each second: ${[...bySecond.values()].join(' ')}`);
  // On a loaded machine the CLI and the emulator compete for the cores: say how much CPU each used.
  console.log(
    `CPU: apply process ${result.cpuSeconds.toFixed(1)} s (its own timer: ${(json.durationMs / 1000).toFixed(1)} s from the plan read to the result), emulator ${emulatorCpuSeconds.toFixed(1)} s; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
} finally {
  await shop.close();
}
