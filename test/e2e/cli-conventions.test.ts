import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { outputSchemas, type OutputName } from '../../src/views/schemas.js';
import { readPlan } from '../../src/plan/file.js';
import { binPath, runCli } from '../helpers/cli.js';
import { cliEnv, demoWorkspace, spawnEmulator, type SpawnedEmulator } from './sync-helpers.js';

const ESC = '\x1b';
const hasScript = spawnSync('script', ['--version']).status === 0;

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the CLI under a pseudo-terminal (util-linux `script`), so stdout and stderr are a TTY, with the
 * terminal `columns` wide. Returns everything the terminal received.
 */
function underTerminal(
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; columns?: number },
): Promise<{ code: number | null; output: string }> {
  const command = `stty cols ${options.columns ?? 200} rows 50; exec ${shellQuote(process.execPath)} ${[binPath, ...args].map(shellQuote).join(' ')}`;
  const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('CLI conventions: colour, --quiet, --verbose, JSON documents, terminal width', () => {
  let emulator: SpawnedEmulator;
  const workspace = demoWorkspace();
  const colourless = { NO_COLOR: undefined, FORCE_COLOR: undefined };
  before(async () => {
    emulator = await spawnEmulator();
    for (const args of [
      ['pull', 'erp'],
      ['pull', 'shopify'],
    ]) {
      const result = await runCli(args, { cwd: workspace.dir, env: cliEnv(emulator.url) });
      assert.equal(result.code, 0, result.stderr);
    }
  });
  after(async () => {
    await emulator.stop();
    workspace.cleanup();
  });

  it('colours diff and plan on a terminal by default (the check below has teeth)', { skip: !hasScript && 'no script(1) here' }, async () => {
    const result = await underTerminal(['diff'], { cwd: workspace.dir, env: colourless });
    assert.equal(result.code, 0, result.output);
    assert.ok(result.output.includes(ESC), 'expected colour codes on a terminal');
  });

  for (const [label, args, env] of [
    ['NO_COLOR=1', [], { ...colourless, NO_COLOR: '1' }],
    ['--no-color', ['--no-color'], colourless],
    ['--no-color before the command', [], colourless],
  ] as const) {
    it(`${label} on a terminal: no escape code at all, in diff, plan and pull shopify's progress`, { skip: !hasScript && 'no script(1) here' }, async () => {
      for (const command of [['diff'], ['plan', '--out', 'p.json'], ['pull', 'shopify']]) {
        const argv = label === '--no-color before the command' ? ['--no-color', ...command] : [...command, ...args];
        const result = await underTerminal(argv, { cwd: workspace.dir, env: { ...env, ...cliEnv(emulator.url) } });
        assert.equal(result.code, 0, result.output);
        assert.ok(!result.output.includes(ESC), `${argv.join(' ')} printed an escape code: ${JSON.stringify(result.output.slice(0, 300))}`);
        assert.match(result.output, /drifting|Plan:|Shopify snapshot/);
      }
    });
  }

  it('FORCE_COLOR=1 colours even in a pipe; no colour in a pipe by default', async () => {
    const forced = await runCli(['diff'], { cwd: workspace.dir, env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(forced.stdout.includes(ESC));
    const piped = await runCli(['diff'], { cwd: workspace.dir, env: colourless });
    assert.ok(!piped.stdout.includes(ESC));
  });

  it('tables fit the terminal: every table line of diff --all within 80 columns, no row lost', { skip: !hasScript && 'no script(1) here' }, async () => {
    const wide = await runCli(['diff', '--all'], { cwd: workspace.dir });
    assert.ok(
      wide.stdout.split('\n').some((line) => line.startsWith('│') && line.length > 80),
      'the test needs a table wider than 80 columns in a pipe',
    );
    const result = await underTerminal(['diff', '--all'], { cwd: workspace.dir, env: { NO_COLOR: '1' }, columns: 80 });
    assert.equal(result.code, 0, result.output);
    const lines = result.output.replace(/\r/g, '').split('\n');
    const tableLines = lines.filter((line) => /^[│┌└]/.test(line));
    assert.ok(tableLines.length > 0);
    // Prose lines wrap in the terminal by themselves; a table line must not.
    for (const line of tableLines) assert.ok([...line].length <= 80, `wider than 80: ${line}`);
    for (const sku of ['TEE-RED-M', 'MUG-WHT', 'GIFT-SET', 'CAP-BLK']) assert.ok(result.output.includes(sku), sku);
  });

  it('every --format json output starts with schemaVersion', async () => {
    for (const args of [['diff'], ['snapshots'], ['status'], ['plan', '--out', 'p.json'], ['apply', 'p.json'], ['log'], ['prune', '--keep', '5']]) {
      const result = await runCli([...args, '--format', 'json'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      const json = JSON.parse(result.stdout);
      assert.equal(Object.keys(json)[0], 'schemaVersion', args.join(' '));
      assert.equal(json.schemaVersion, 1);
    }
  });

  it('a failure under --format json is a JSON document on stdout with error.message and details; the exit code stays 1', async () => {
    writeFileSync(
      join(workspace.dir, 'bad.json'),
      JSON.stringify({ shopify: { shop: 'x.myshopify.com' }, locations: [{ warehouses: [], shopifyLocation: 'A' }] }),
    );
    const cases = [
      ['diff', '--config', 'bad.json', '--format', 'json'],
      ['diff', '--config', 'missing.json', '--format=json'],
      ['snapshots', '--side', 'foo', '-f', 'json'],
      ['apply', 'no-such-plan.json', '--format', 'json'],
      // commander hands --format to `plan`, the parent, wherever it stands
      ['plan', 'show', 'no-such-plan.json', '--format', 'json'],
      ['plan', 'show', '--format', 'json', 'no-such-plan.json'],
    ];
    for (const args of cases) {
      const result = await runCli(args, { cwd: workspace.dir });
      assert.equal(result.code, 1, args.join(' '));
      const json = JSON.parse(result.stdout);
      assert.equal(json.schemaVersion, 1);
      assert.equal(typeof json.error.message, 'string', args.join(' '));
      assert.ok(Array.isArray(json.error.details));
      assert.match(result.stderr, /./, 'the message is on stderr too');
    }
    const invalid = JSON.parse((await runCli(cases[0]!, { cwd: workspace.dir })).stdout);
    assert.match(invalid.error.message + invalid.error.details.join('\n'), /locations\[0\]\.warehouses/);
  });

  it('enumerated options are checked: snapshots --side foo is refused, naming the choices', async () => {
    const result = await runCli(['snapshots', '--side', 'foo'], { cwd: workspace.dir });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /argument 'foo' is invalid\. Allowed choices are erp, shopify/);
  });

  it('a line on stderr for every file written, none under --quiet; --quiet keeps the results', async () => {
    const loud = await runCli(['plan', '--out', 'plan.json', '--erp-out', 'erp-corrections.csv'], { cwd: workspace.dir });
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /^Wrote the plan: .*plan\.json$/m);
    assert.match(loud.stderr, /^Wrote the ERP corrections \(1 row\): .*erp-corrections\.csv$/m);
    assert.ok(existsSync(join(workspace.dir, 'erp-corrections.csv')));
    const quiet = await runCli(['plan', '--out', 'plan.json', '--erp-out', 'erp-corrections.csv', '--quiet'], { cwd: workspace.dir });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    assert.equal(quiet.stdout, loud.stdout);
    const report = await runCli(['report', '--html', 'r.html'], { cwd: workspace.dir });
    assert.match(report.stderr, /^Wrote the report of 0 sync runs: .*r\.html$/m);
  });

  it('--verbose: each Shopify call, with its outcome, cost and wait, on stderr; stdout unchanged', async () => {
    const result = await runCli(['pull', 'shopify', '--verbose', '--format', 'json'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
    assert.equal(result.code, 0, result.stderr);
    const calls = result.stderr.split('\n').filter((line) => line.startsWith('shopify: '));
    assert.equal(calls.length, JSON.parse(result.stdout).calls);
    assert.match(calls[0]!, /^shopify: LocationsPage ok \(HTTP 200\), cost \d+\/\d+, bucket [\d,]+\/[\d,]+, \d+ ms/);
    const silent = await runCli(['pull', 'shopify'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
    assert.ok(!silent.stderr.includes('shopify: LocationsPage'));
  });

  it('apply --live says so when no planned level is stale', async () => {
    const plan = await runCli(['plan', '--out', 'live.json'], { cwd: workspace.dir });
    assert.equal(plan.code, 0, plan.stderr);
    const result = await runCli(['apply', 'live.json', '--live'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Live check: Shopify still shows every planned level's "from" value: none of the 7 changes is stale\.$/m);
  });

  it('plurals: one of a thing is singular', async () => {
    const plan = readPlan(join(workspace.dir, 'live.json'));
    assert.equal(plan.erpCorrections.length, 1);
    const text = (await runCli(['plan', '--out', 'live.json'], { cwd: workspace.dir })).stdout;
    assert.match(text, /, 1 ERP correction\./);
    assert.doesNotMatch(text, /\b1 (changes|levels|rows|units|ERP corrections)\b/);
  });

  // Last: it commits, so the workspace is in sync afterwards.
  it('every --format json output validates against its published schema (schema/output/)', async () => {
    const cases: [string[], OutputName][] = [
      [['pull', 'erp'], 'pull-erp'],
      [['pull', 'shopify'], 'pull-shopify'],
      [['snapshots'], 'snapshots'],
      [['diff', '--all'], 'diff'],
      [['plan', '--out', 'schema-plan.json', '--erp-out', 'schema-erp.csv'], 'plan'],
      [['apply', 'schema-plan.json'], 'apply'],
      [['apply', 'schema-plan.json', '--commit'], 'apply'],
      [['log'], 'log'],
      [['sync'], 'sync'],
      [['status'], 'status'],
      [['doctor'], 'doctor'],
      [['prune', '--keep', '3'], 'prune'],
      [['diff', '--config', 'missing.json'], 'error'],
    ];
    for (const [args, name] of cases) {
      const result = await runCli([...args, '--format', 'json'], { cwd: workspace.dir, env: cliEnv(emulator.url) });
      const parsed = outputSchemas[name].safeParse(JSON.parse(result.stdout));
      assert.ok(
        parsed.success,
        `${args.join(' ')} (exit ${result.code}) does not match schema/output/${name}.schema.json: ${parsed.error?.message}\n${result.stderr}`,
      );
    }
  });
});

describe('invrecon completion', () => {
  it('bash: accepted by bash -n, and completes commands, subcommands, flags and --format values', async () => {
    const result = await runCli(['completion', 'bash']);
    assert.equal(result.code, 0, result.stderr);
    const syntax = spawnSync('bash', ['-n'], { input: result.stdout });
    assert.equal(syntax.status, 0, syntax.stderr.toString());
    const complete = (words: string[]) => {
      const script = `${result.stdout}\nCOMP_WORDS=(${words.map(shellQuote).join(' ')}); COMP_CWORD=${words.length - 1}; _invrecon; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const run = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      return run.stdout.split('\n').filter(Boolean);
    };
    assert.ok(['pull', 'diff', 'doctor', 'completion', 'sync'].every((c) => complete(['invrecon', '']).includes(c)));
    assert.deepEqual(complete(['invrecon', 'pull', '']), ['erp', 'shopify']);
    assert.deepEqual(complete(['invrecon', 'diff', '--format', '']), ['table', 'json', 'csv']);
    assert.deepEqual(complete(['invrecon', 'plan', '--format', '']), ['table', 'json']);
    assert.deepEqual(complete(['invrecon', 'snapshots', '--side', '']), ['erp', 'shopify']);
    assert.deepEqual(complete(['invrecon', 'completion', '']), ['bash', 'zsh', 'fish']);
    assert.ok(complete(['invrecon', 'pull', 'erp', '--c']).includes('--csv'));
    assert.ok(complete(['invrecon', 'sync', '--']).includes('--detailed-exitcode'));
    assert.ok(complete(['invrecon', 'sync', '--']).includes('--no-color'));
  });

  it('zsh and fish scripts name every command', async () => {
    for (const shell of ['zsh', 'fish']) {
      const result = await runCli(['completion', shell]);
      assert.equal(result.code, 0, result.stderr);
      for (const command of ['doctor', 'diff', 'erp', 'shopify', 'completion']) assert.ok(result.stdout.includes(command), `${shell}: ${command}`);
    }
    const zsh = (await runCli(['completion', 'zsh'])).stdout;
    assert.match(zsh, /^#compdef invrecon$/m);
    const fish = (await runCli(['completion', 'fish'])).stdout;
    assert.match(fish, /complete -c invrecon -n '__fish_seen_subcommand_from diff' -l format -s f -x -a 'table json csv'/);
  });

  it('refuses an unknown shell', async () => {
    const result = await runCli(['completion', 'tcsh']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Allowed choices are bash, zsh, fish/);
  });
});
