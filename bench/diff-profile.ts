// Times each SQL statement computeDiff runs, on the database bench/diff.ts built.
// Usage: npx tsx bench/diff-profile.ts [skus=100000] [locations=10]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../src/config/load.js';
import { computeDiff } from '../src/reconcile/diff.js';
import { openDb } from '../src/store/db.js';

const skus = Number(process.argv[2] ?? 100_000);
const locations = Number(process.argv[3] ?? 10);
const out = join(new URL('..', import.meta.url).pathname, 'bench', 'out', `diff-${skus}x${locations}`);
const configPath = join(out, 'invrecon.config.json');
const config = resolveConfig(JSON.parse(readFileSync(configPath, 'utf8')), configPath);
const db = openDb(join(out, '.invrecon', 'snapshot.db'));

const timings = new Map<string, { ms: number; calls: number }>();
const record = (sql: string, ms: number) => {
  const flat = sql.replace(/\s+/g, ' ').trim();
  // Statements that share a long prefix (the two halves of the level join) differ in their FROM.
  const from = flat.indexOf(' FROM ', flat.indexOf('SELECT ', 20));
  const key = flat.length > 110 && from > 0 ? `${flat.slice(0, 50)} … ${flat.slice(from, from + 60)}` : flat.slice(0, 110);
  const entry = timings.get(key) ?? { ms: 0, calls: 0 };
  entry.ms += ms;
  entry.calls++;
  timings.set(key, entry);
};
// CPU time (user + system) rather than wall time: steadier on a busy machine.
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const timed = <T>(sql: string, fn: () => T): T => {
  const started = cpuMs();
  try {
    return fn();
  } finally {
    record(sql, cpuMs() - started);
  }
};
const exec = db.exec.bind(db);
db.exec = (sql: string) => timed(sql, () => exec(sql));
const prepare = db.prepare.bind(db);
db.prepare = ((sql: string) => {
  const statement = prepare(sql);
  for (const method of ['run', 'get', 'all'] as const) {
    const original = (statement as any)[method].bind(statement);
    (statement as any)[method] = (...args: unknown[]) => timed(sql, () => original(...args));
  }
  return statement;
}) as typeof db.prepare;

const started = performance.now();
const startedCpu = cpuMs();
const result = computeDiff(db, config);
const total = performance.now() - started;
console.log(
  `computeDiff: ${(total / 1000).toFixed(2)} s wall, ${((cpuMs() - startedCpu) / 1000).toFixed(2)} s CPU, ${result.rows.length} rows; per statement (CPU):`,
);
for (const [sql, { ms, calls }] of [...timings].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
  console.log(`${(ms / 1000).toFixed(2).padStart(7)} s ${String(calls).padStart(5)}×  ${sql}`);
}
