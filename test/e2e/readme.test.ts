import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, runCli } from '../helpers/cli.js';
import { cliEnv, demoWorkspace, spawnEmulator, type SpawnedEmulator } from './sync-helpers.js';

// The README and docs/*.md cannot drift from the tool: every `invrecon …` command line they show is
// checked against the real `--help` of that command (the command exists, each flag it uses exists,
// an enumerated flag's value is one of its choices), and the README's plan sample against a real plan.

const DOCS = [
  'README.md',
  ...readdirSync(join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

interface Example {
  file: string;
  line: number;
  text: string;
}

/** Code of a Markdown file: every line of a fenced block, and every inline `span` elsewhere. */
function codeOf(file: string): Example[] {
  const out: Example[] = [];
  let fenced = false;
  readFileSync(join(repoRoot, file), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (/^\s*```/.test(text)) {
        fenced = !fenced;
        return;
      }
      if (fenced) out.push({ file, line: i + 1, text });
      else for (const span of text.matchAll(/`([^`]+)`/g)) out.push({ file, line: i + 1, text: span[1]! });
    });
  return out;
}

/** Shell-like words of one command: quotes kept together, stopping at a pipe, redirection, list operator or comment. */
function words(command: string): string[] {
  const out: string[] = [];
  const text = command.replace(/\\\|/g, ' '); // `a \| b` in a Markdown table: alternatives
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    if (/^(\||&&|;|>|<|2>|#|\))/.test(rest)) break;
    const word = /^(?:'[^']*'|"[^"]*"|[^\s'"|;<>)])+/.exec(rest);
    if (!word) break;
    out.push(word[0]);
    i += word[0].length;
  }
  return out;
}

/** Every `invrecon WORDS` in the docs' code. */
function commandLines(): (Example & { words: string[] })[] {
  const out: (Example & { words: string[] })[] = [];
  for (const file of DOCS) {
    for (const example of codeOf(file)) {
      for (const match of example.text.matchAll(/(?:^|[\s(`])(?:npx\s+)?invrecon\s+(?=[-a-z])/g)) {
        const after = example.text.slice(match.index + match[0].length);
        out.push({ ...example, words: words(after) });
      }
    }
  }
  return out;
}

interface HelpOption {
  flags: string[];
  choices?: string[];
  takesValue: boolean;
}

interface Help {
  commands: string[];
  options: HelpOption[];
}

/** Reads `invrecon PATH --help` as printed: its commands and its options (the global ones too). */
function parseHelp(text: string): Help {
  const commands: string[] = [];
  const options: HelpOption[] = [];
  let section = '';
  const entries: string[] = [];
  for (const line of text.split('\n')) {
    const heading = /^(\w[\w ]*):\s*$/.exec(line);
    if (heading) {
      section = heading[1]!;
      continue;
    }
    if (/^ {2}\S/.test(line)) entries.push(`${section}\u0000${line.trim()}`);
    else if (/^ {3,}\S/.test(line) && entries.length) entries[entries.length - 1] += ` ${line.trim()}`;
  }
  for (const entry of entries) {
    const [where, body] = entry.split('\u0000') as [string, string];
    if (where === 'Commands') commands.push(body.split(/\s/)[0]!);
    if (/Options$/.test(where)) {
      const head = body.split(/\s{2,}/)[0]!;
      const flags = [...head.matchAll(/(?:^|[\s,])(--?[\w-]+)/g)].map((m) => m[1]!);
      const choices = /\(choices: ((?:"[^"]*"(?:, )?)+)/.exec(body)?.[1];
      options.push({ flags, takesValue: /[<[]/.test(head), choices: choices ? [...choices.matchAll(/"([^"]*)"/g)].map((m) => m[1]!) : undefined });
    }
  }
  return { commands, options };
}

const helps = new Map<string, Promise<Help>>();
function helpOf(path: string[]): Promise<Help> {
  const key = path.join(' ');
  if (!helps.has(key)) {
    helps.set(
      key,
      runCli([...path, '--help']).then((result) => {
        assert.equal(result.code, 0, `invrecon ${key} --help: ${result.stderr}`);
        return parseHelp(result.stdout);
      }),
    );
  }
  return helps.get(key)!;
}

const isPlaceholder = (word: string) => /^[A-Z][A-Z0-9_.…-]*$/.test(word) || /^<.*>$/.test(word) || word === '…' || word.includes('$');

async function problemsOf(example: Example & { words: string[] }): Promise<string[]> {
  const where = `${example.file}:${example.line}: invrecon ${example.words.join(' ')}`;
  const path: string[] = [];
  let index = 0;
  for (; index < example.words.length; index++) {
    const word = example.words[index]!.replace(/^\[|\]$/g, '');
    const help = await helpOf(path);
    if (help.commands.includes(word)) path.push(word);
    else break;
  }
  if (path.length === 0 && !example.words[0]?.startsWith('-')) {
    if (isPlaceholder(example.words[0] ?? '')) return [];
    return [`${where}: "${example.words[0]}" is not an invrecon command`];
  }
  const help = await helpOf(path);
  const problems: string[] = [];
  for (let i = index; i < example.words.length; i++) {
    const word = example.words[i]!.replace(/^\[+|\]+$/g, '');
    if (!word.startsWith('-') || word === '-') continue;
    const flag = word.split('=')[0]!;
    const option = help.options.find((o) => o.flags.includes(flag));
    if (!option) {
      problems.push(`${where}: "invrecon ${path.join(' ')} --help" has no ${flag}`);
      continue;
    }
    const value = word.includes('=') ? word.slice(word.indexOf('=') + 1) : option.takesValue ? example.words[i + 1]?.replace(/\]+$/, '') : undefined;
    if (option.choices && value && !isPlaceholder(value)) {
      for (const v of value.split('|')) if (!option.choices.includes(v)) problems.push(`${where}: ${flag} ${v} is not one of ${option.choices.join(', ')}`);
    }
  }
  return problems;
}

describe('README.md and docs/*.md against the tool', () => {
  it('finds the command lines to check (the check has material)', () => {
    const lines = commandLines();
    assert.ok(lines.length > 40, `only ${lines.length} command lines found`);
    assert.ok(lines.some((l) => l.file === 'README.md' && l.words[0] === 'doctor'));
  });

  it("every command line names a real command, and every flag it uses is in that command's --help, with an allowed value", async () => {
    const problems = (await Promise.all(commandLines().map(problemsOf))).flat();
    assert.deepEqual(problems, []);
  });

  it('the check has teeth: a renamed flag, an unknown command and a wrong choice are caught', async () => {
    const probe = (text: string) => problemsOf({ file: 'probe', line: 1, text, words: words(text) });
    assert.equal((await probe('diff --detailed-exit-code')).length, 1);
    assert.equal((await probe('pull erp --csvfile x.csv')).length, 1);
    assert.equal((await probe('frobnicate --all')).length, 1);
    assert.equal((await probe('plan --format csv')).length, 1);
    assert.equal((await probe('snapshots [--side erp|shopify]')).length, 0);
    assert.deepEqual(await probe('sync --commit --log-format json --no-color -q'), []);
  });

  it('the README says which commands take --config, and it is so', async () => {
    const root = await helpOf([]);
    const without: string[] = [];
    for (const command of root.commands.filter((c) => c !== 'help')) {
      const help = await helpOf([command]);
      const subcommands = help.commands.filter((c) => c !== 'help');
      const leaves = subcommands.length ? await Promise.all(subcommands.map((sub) => helpOf([command, sub]))) : [help];
      if (!leaves.every((leaf) => leaf.options.some((o) => o.flags.includes('--config')))) without.push(command);
    }
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const sentence = /Every command but ([^.]+?) takes `--config PATH`/.exec(readme);
    assert.ok(sentence, 'README: "Every command but … takes `--config PATH`" is missing');
    assert.deepEqual([...sentence[1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort(), without.sort());
  });
});

describe('the README plan sample against a real plan of the demo', () => {
  let emulator: SpawnedEmulator;
  const workspace = demoWorkspace();
  before(async () => {
    emulator = await spawnEmulator();
  });
  after(async () => {
    await emulator.stop();
    workspace.cleanup();
  });

  it('every line of the sample is a line of `invrecon plan` on the demo shop', async () => {
    for (const args of [
      ['pull', 'erp'],
      ['pull', 'shopify'],
    ])
      assert.equal((await runCli(args, { cwd: workspace.dir, env: cliEnv(emulator.url) })).code, 0);
    const plan = await runCli(['plan', '--out', 'tonight.json'], { cwd: workspace.dir });
    assert.equal(plan.code, 0, plan.stderr);
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const sample = /Prints a terraform-like plan[^\n]*\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(sample, 'README: the plan sample after "Prints a terraform-like plan" is missing');
    const real = new Set(plan.stdout.split('\n').map((l) => l.trimEnd()));
    const lines = sample.split('\n').filter((l) => l.trim() !== '' && l.trim() !== '…');
    assert.ok(lines.length >= 8);
    for (const line of lines)
      assert.ok(real.has(line.trimEnd()), `README plan sample line not in the real output: ${JSON.stringify(line)}\n--- real:\n${plan.stdout}`);
  });
});
