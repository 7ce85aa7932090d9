import { Option, type Command } from 'commander';
import { loadConfig, DEFAULT_CONFIG_PATH, type LoadedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { openDb, type Db } from '../store/db.js';

export type Format = 'table' | 'json' | 'csv';

export interface GlobalOptions {
  config: string;
  format?: Format;
}

/** Every command takes --config; result-printing ones take --format too. */
export function configOption(command: Command): Command {
  return command.option('-c, --config <path>', 'config file', DEFAULT_CONFIG_PATH);
}

export function formatOption(command: Command, formats: readonly Format[] = ['table', 'json']): Command {
  return command.addOption(new Option('-f, --format <format>', 'output format').choices(formats as string[]).default('table'));
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

export const write = {
  out(text: string): void {
    process.stdout.write(text.endsWith('\n') || text === '' ? text : text + '\n');
  },
  err(text: string): void {
    process.stderr.write(text.endsWith('\n') || text === '' ? text : text + '\n');
  },
};
