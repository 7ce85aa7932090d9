import chalk from 'chalk';
import type { Command } from 'commander';
import { EXIT, InputError } from '../../errors.js';
import { runDemo, type DemoOutcome, type DemoStep } from '../../ops/demo.js';
import { plural, signed } from '../../views/common.js';
import { renderDiff } from '../../views/diff.js';
import { renderApply } from '../../views/apply.js';
import { renderPlanText } from '../../views/plan.js';
import { renderErpPull } from '../../views/pull.js';
import { renderShopifyPull } from '../../views/shopify-pull.js';
import type { ExitCodeSink } from '../main.js';
import { write } from '../shared.js';

const TOTAL = 7;

function heading(n: number, command: string, what: string): string {
  return `\n${chalk.bold(`── step ${n}/${TOTAL}: invrecon ${command}`)}  ${chalk.dim(what)}\n`;
}

export function renderDemoStep(step: DemoStep): string {
  switch (step.kind) {
    case 'setup':
      return (
        `invrecon demo: the whole loop on the bundled demo shop, nothing to set up.\n` +
        `  folder:   ${step.dir} (${step.files.join(', ')})\n` +
        `  Shopify:  a local emulator at ${step.emulatorUrl} (a demo token, for this run only)\n`
      );
    case 'pull-erp':
      return heading(1, 'pull erp', 'read the ERP export into a snapshot') + renderErpPull(step.result, 'table');
    case 'pull-shopify':
      return step.again
        ? heading(6, 'pull shopify', 'read Shopify again, after the apply') + renderShopifyPull(step.result, 'table')
        : heading(2, 'pull shopify', 'read every inventory level into a snapshot') + renderShopifyPull(step.result, 'table');
    case 'diff':
      return step.again
        ? heading(7, 'diff', 'what is left to do') + renderDiff(step.result, 'table')
        : heading(3, 'diff', 'per SKU per location: target (from the ERP), observed (Shopify), delta') + renderDiff(step.result, 'table');
    case 'plan':
      return (
        heading(4, 'plan --out plan.json', 'freeze the changes into a plan file, with guard checks') +
        renderPlanText(step.plan, step.plan.changes, step.plan.erpCorrections, step.planFile, { perLocation: Infinity, limit: Infinity })
      );
    case 'apply':
      return heading(5, 'apply plan.json --commit', 'send the plan: compare-and-swap, idempotency key, batches of 250') + renderApply(step.result, 'table');
  }
}

export function renderDemoEnd(outcome: DemoOutcome): string {
  const lines = [''];
  if (outcome.erpCorrections.length > 0) {
    lines.push(
      `Left for the ERP, not Shopify: ${outcome.erpCorrections.map((c) => `${c.sku} @ ${c.locationName} (Shopify is the authority there; the ERP should move by ${signed(-c.delta)})`).join('; ')}.`,
    );
  }
  const reported = Object.entries(outcome.reported).map(([status, n]) => `${n} ${status}`);
  if (reported.length > 0)
    lines.push(`Reported, not drift: ${reported.join(', ')} (SKUs only one side has, items not stocked at a location, ERP values clamped to 0).`);
  lines.push(
    outcome.shopifyDrift === 0
      ? chalk.green(`Done: zero Shopify drift. Every level Shopify should hold now equals what the ERP says can be sold.`)
      : chalk.red(`The demo ended with ${plural(outcome.shopifyDrift, 'level')} still drifting in Shopify.`),
  );
  lines.push(
    outcome.kept
      ? `The demo folder is kept: ${outcome.dir} (try: cd ${outcome.dir} && invrecon status)`
      : 'The demo folder was removed (keep it with --keep, or choose one with --dir DIR).',
  );
  return lines.join('\n') + '\n';
}

export function registerDemo(program: Command, setExitCode: ExitCodeSink): Command {
  return program
    .command('demo')
    .description('run the whole loop on the bundled demo shop, no setup: an emulator, a config, pull → diff → plan → apply --commit → diff')
    .option('--dir <dir>', 'write the demo config and snapshot here (new or empty folder; kept)')
    .option('--keep', 'keep the temporary demo folder')
    .action(async (options: { dir?: string; keep?: boolean }) => {
      const outcome = await runDemo({ dir: options.dir, keep: options.keep, onStep: (step) => write.out(renderDemoStep(step)) });
      write.out(renderDemoEnd(outcome));
      if (outcome.shopifyDrift > 0) throw new InputError(`demo: ${plural(outcome.shopifyDrift, 'level')} still drift after the apply`);
      setExitCode(EXIT.ok);
    });
}
