import { once } from 'node:events';
import { Option, type Command } from 'commander';
import { loadConfig, DEFAULT_CONFIG_PATH, type LoadedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { CallEvent, ShopifyClientOptions } from '../sources/shopify/client.js';
import { openDb, type Db } from '../store/db.js';
import { renderCallEvent } from '../views/common.js';

export type Format = 'table' | 'json' | 'csv';

export interface GlobalOptions {
  config: string;
  format?: Format;
}

/** What the global flags asked for, set once per run before the action (see main.ts). */
export interface OutputContext {
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  /** The --format of the command that runs, so a failure can answer in JSON too. */
  format?: string;
}

const context: OutputContext = { quiet: false, verbose: false, color: false };

export function setOutputContext(next: Partial<OutputContext>): void {
  Object.assign(context, next);
}

export function outputContext(): Readonly<OutputContext> {
  return context;
}

/** Commands that read or write a workspace take --config; result-printing ones take --format too. */
export function configOption(command: Command): Command {
  return command.option('-c, --config <path>', 'config file', DEFAULT_CONFIG_PATH);
}

export function formatOption(command: Command, formats: readonly Format[] = ['table', 'json']): Command {
  return command.addOption(new Option('-f, --format <format>', 'output format').choices(formats).default('table'));
}

export function parseCount(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: expected a whole number ≥ 0, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Opens the config and its snapshot database; close() when done. */
export function openWorkspace(options: { config: string }): { config: LoadedConfig; db: Db; close(): void } {
  const config = loadConfig(options.config);
  const db = openDb(config.snapshot.path);
  return { config, db, close: () => db.close() };
}

/** Runs fn with an open workspace, closing it whatever happens. */
export async function withWorkspace<T>(options: { config: string }, fn: (config: LoadedConfig, db: Db) => Promise<T> | T): Promise<T> {
  const workspace = openWorkspace(options);
  try {
    return await fn(workspace.config, workspace.db);
  } finally {
    workspace.close();
  }
}

const line = (text: string) => (text.endsWith('\n') || text === '' ? text : text + '\n');

export const write = {
  /** Results: stdout. */
  out(text: string): void {
    process.stdout.write(line(text));
  },
  /** Writes a long output piece by piece, waiting whenever stdout is full, so it never sits in memory whole. */
  async chunks(pieces: Iterable<string>): Promise<void> {
    let buffer = '';
    for (const piece of pieces) {
      buffer += piece;
      if (buffer.length < 1 << 16) continue;
      if (!process.stdout.write(buffer)) await once(process.stdout, 'drain');
      buffer = '';
    }
    if (buffer && !process.stdout.write(buffer)) await once(process.stdout, 'drain');
  },
  /** Errors: stderr, always. */
  err(text: string): void {
    process.stderr.write(line(text));
  },
  /** Something a person must act on: stderr, even under --quiet. */
  warn(text: string): void {
    process.stderr.write(line(`warning: ${text}`));
  },
  /** What was done on the side (a file written, a lock taken over): stderr, not under --quiet. */
  note(text: string): void {
    if (!context.quiet) process.stderr.write(line(text));
  },
  /** Each call, retry and wait: stderr, only under --verbose. */
  verbose(text: string): void {
    if (context.verbose) process.stderr.write(line(text));
  },
};

/** A line on stderr for a file the command wrote. */
export function noteWritten(what: string, path: string): void {
  write.note(`Wrote ${what}: ${path}`);
}

/** Client options that report each Shopify call under --verbose (nothing otherwise). */
export function callReporter(): Pick<ShopifyClientOptions, 'onCall'> {
  return context.verbose ? { onCall: (event: CallEvent) => write.verbose(renderCallEvent(event)) } : {};
}
