// diff in each format and report --html over SKUS × LOCATIONS levels that ALL drift (a first sync):
// each as a child process, with its wall time and peak RSS (VmHWM). Targets: ≤ 500 MB each, the
// table's first screen (the default `invrecon diff`) within 10 s.
// Usage: npx tsx bench/diff-large.ts [skus=100000] [locations=10]
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { measure } from '../test/helpers/measure.js';
import { buildSnapshotDb, writeSnapshotDbConfig } from './snapshot-db.js';

const skus = Number(process.argv[2] ?? 100_000);
const locations = Number(process.argv[3] ?? 10);
const levels = skus * locations;
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'invrecon.js');
const out = join(root, 'bench', 'out', `diff-large-${skus}x${locations}`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const buildMs = buildSnapshotDb(join(out, '.invrecon', 'snapshot.db'), skus, locations, 1);
writeSnapshotDbConfig(join(out, 'invrecon.config.json'), locations);
console.log(`levels: ${levels.toLocaleString('en-US')}, every one drifting; snapshot db built in ${(buildMs / 1000).toFixed(1)} s`);

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const runs: [string, string[], (stdout: string) => string][] = [
  ['diff (table, first screen)', ['diff'], (o) => `${o.split('\n').length} lines`],
  [
    'diff --format json',
    ['diff', '--format', 'json'],
    (o) => `${(JSON.parse(o) as { rows: unknown[] }).rows.length.toLocaleString('en-US')} rows, ${(o.length / 1e6).toFixed(0)} MB`,
  ],
  ['diff --format csv', ['diff', '--format', 'csv'], (o) => `${(o.split('\n').length - 2).toLocaleString('en-US')} rows, ${(o.length / 1e6).toFixed(0)} MB`],
  ['diff --limit 0 (whole table)', ['diff', '--limit', '0'], (o) => `${(o.length / 1e6).toFixed(0)} MB`],
  ['report --html', ['report', '--html', 'report.html'], () => `${(statSync(join(out, 'report.html')).size / 1e3).toFixed(0)} kB`],
];
for (const [label, args, check] of runs) {
  const result = await measure(process.execPath, [bin, ...args], { cwd: out });
  if (result.code !== 0 && result.code !== 2) throw new Error(`${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  const peak = result.peakRssMb ?? 0;
  console.log(
    `${label.padEnd(30)} ${s(result.wallMs).padStart(7)}  peak RSS ${peak.toFixed(0).padStart(4)} MB${peak > 500 ? ' (OVER 500 MB)' : ''}  ${check(result.stdout)}`,
  );
}
