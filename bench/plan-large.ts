// plan, apply (dry run) and apply --commit of a first sync where every level differs: ITEMS × LOCATIONS
// changes (default 100,000 × 10 = 1,000,000) against the emulator (its bucket opened wide: this measures
// memory and the tool's own time, not Shopify's rate limit; bench/sync-large.ts does that). Each step is
// a child process; its peak RSS is VmHWM. Targets: ≤ 500 MB each, plan file ≤ 150 bytes a change.
// Usage: npx tsx bench/plan-large.ts [100000x10]
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { mb, openLargeShop, secs } from './large-shop.js';

const [items, locations] = (process.argv[2] ?? '100000x10').split('x').map(Number) as [number, number];
const levels = items * locations;
const shop = await openLargeShop(`plan-large-${items}x${locations}`, items, locations, ['--max-available', '1000000000', '--restore-rate', '1000000000']);
const over = (peak: number | null) => ((peak ?? 0) > 500 ? '  OVER 500 MB' : '');
try {
  const erp = await shop.cli(['pull', 'erp']);
  const shopify = await shop.cli(['pull', 'shopify', '--bulk']);
  console.log(
    `shop: ${levels.toLocaleString('en-US')} levels; pull erp ${secs(erp.wallMs)} (${mb(erp)}), pull shopify --bulk ${secs(shopify.wallMs)} (${mb(shopify)})`,
  );

  const plan = await shop.cli(['plan', '--out', 'plan.json', '--format', 'json']);
  const summary = JSON.parse(plan.stdout) as { summary: { changes: number }; digest: string };
  const bytes = statSync(join(shop.dir, 'plan.json')).size;
  const changes = summary.summary.changes;
  if (changes !== levels) throw new Error(`expected ${levels} changes, the plan has ${changes}`);
  console.log(
    `plan:            ${secs(plan.wallMs).padStart(7)}  peak RSS ${mb(plan).padStart(7)}  ${changes.toLocaleString('en-US')} changes, file ${(bytes / 1e6).toFixed(0)} MB = ${(bytes / changes).toFixed(0)} bytes a change${bytes / changes > 150 ? ' (OVER 150)' : ''}${over(plan.peakRssMb)}`,
  );

  const show = await shop.cli(['plan', 'show', 'plan.json', '--location', 'Location 007', '--limit', '20']);
  console.log(`plan show:       ${secs(show.wallMs).padStart(7)}  peak RSS ${mb(show).padStart(7)}${over(show.peakRssMb)}`);

  const dry = await shop.cli(['apply', 'plan.json', '--format', 'json']);
  console.log(`apply (dry run): ${secs(dry.wallMs).padStart(7)}  peak RSS ${mb(dry).padStart(7)}${over(dry.peakRssMb)}`);

  const commit = await shop.cli(['apply', 'plan.json', '--commit', '--format', 'json']);
  const applied = JSON.parse(commit.stdout) as { applied: number; conflicts: number; failed: number; calls: number };
  console.log(
    `apply --commit:  ${secs(commit.wallMs).padStart(7)}  peak RSS ${mb(commit).padStart(7)}  applied ${applied.applied.toLocaleString('en-US')}, conflicts ${applied.conflicts}, failed ${applied.failed}, ${applied.calls} calls${over(commit.peakRssMb)}`,
  );

  // Every level at its target: a fresh pull shows no drift.
  await shop.cli(['pull', 'shopify', '--bulk']);
  const after = await shop.cli(['diff', '--format', 'json', '--detailed-exitcode']);
  const drifting = (JSON.parse(after.stdout) as { summary: { levelsDrifting: number; levelsCompared: number } }).summary;
  console.log(
    `after: ${drifting.levelsDrifting} of ${drifting.levelsCompared.toLocaleString('en-US')} levels drifting (diff --format json ${secs(after.wallMs)}, ${mb(after)})`,
  );
  if (drifting.levelsDrifting !== 0) throw new Error('levels still drift after apply --commit');
} finally {
  shop.close();
}
