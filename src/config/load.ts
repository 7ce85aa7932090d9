import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { parse as parseJsonText, visit, type ParseError } from 'jsonc-parser';
import { InputError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

export const DEFAULT_CONFIG_PATH = './invrecon.config.json';

export interface LoadedConfig extends Config {
  /** Absolute path of the config file; relative paths in it resolve against its folder. */
  configPath: string;
  baseDir: string;
}

/** `locations[1].warehouses` from zod's path array. */
export function formatKeyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(root)';
}

export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    if (keys.length > 0) return keys.map((key) => `${formatKeyPath([...issue.path, key])}: unknown key`).join('\n');
    return `${formatKeyPath(issue.path)}: ${issue.message}`;
  });
}

/** Line and column (1-based) of a character offset in text. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

// Strict JSON for jsonc-parser: no comments, no trailing commas, no empty text.
const STRICT_JSON = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false };

/** Offset of the first syntax error of a JSON text (V8's JSON.parse messages do not always carry one). */
export function jsonErrorOffset(text: string): number | undefined {
  const errors: ParseError[] = [];
  parseJsonText(text, errors, STRICT_JSON);
  return errors[0]?.offset;
}

/**
 * The first key that appears twice in one object (JSON.parse silently keeps the last), with where: a
 * config with `"maxChanges"` twice means one of them is ignored without a word.
 */
export function findDuplicateKey(text: string): { key: string; offset: number } | undefined {
  const objects: Set<string>[] = [];
  let found: { key: string; offset: number } | undefined;
  visit(
    text,
    {
      onObjectBegin: () => void objects.push(new Set()),
      onObjectEnd: () => void objects.pop(),
      onObjectProperty: (key, offset) => {
        const keys = objects.at(-1)!;
        if (keys.has(key)) found ??= { key, offset };
        keys.add(key);
      },
    },
    STRICT_JSON,
  );
  return found;
}

export function parseJsonFile(path: string, text: string): unknown {
  // Editors on Windows save a BOM; it is not part of the JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    const value: unknown = JSON.parse(text);
    const duplicate = findDuplicateKey(text);
    if (duplicate) {
      const where = lineAndColumn(text, duplicate.offset);
      throw new InputError(
        `${path}:${where.line}:${where.column}: key ${JSON.stringify(duplicate.key)} appears twice in the same object; only one would count: remove the other`,
      );
    }
    return value;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const offset = jsonErrorOffset(text);
    const where = offset === undefined ? undefined : lineAndColumn(text, offset);
    throw new InputError(`${path}${where ? `:${where.line}:${where.column}` : ''}: invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`);
  }
}

export function resolveConfig(raw: unknown, configPath: string): LoadedConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = formatZodIssues(parsed.error);
    throw new InputError(`${configPath}: invalid config: ${lines[0]}`, lines.slice(1));
  }
  const baseDir = dirname(configPath);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const config = parsed.data;
  return {
    ...config,
    erp: { ...config.erp, ...(config.erp.csv ? { csv: { ...config.erp.csv, path: at(config.erp.csv.path) } } : {}) },
    bundles: config.bundles.csv ? { csv: at(config.bundles.csv) } : {},
    snapshot: { path: at(config.snapshot.path) },
    configPath,
    baseDir,
  };
}

export function loadConfig(path: string = DEFAULT_CONFIG_PATH): LoadedConfig {
  const configPath = resolve(path);
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${configPath}: config file not found (run "invrecon init" to write a starter config, or pass --config PATH)`);
    throw new InputError(`${configPath}: cannot read config: ${(error as Error).message}`);
  }
  return resolveConfig(parseJsonFile(configPath, text), configPath);
}
