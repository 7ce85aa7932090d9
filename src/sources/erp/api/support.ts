import { isLoopbackHostname } from '../../../config/schema.js';
import { InputError, SourceError } from '../../../errors.js';
import { registerSecret } from '../../../secrets.js';

/** Reads a dot path ("data.items", "lines.0.qty") in parsed JSON; "" is the value itself. */
export function getPath(value: unknown, path: string): unknown {
  return getKeys(value, splitPath(path));
}

/** A dot path split once, for reading it in every record. */
export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('.');
}

export function getKeys(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The URL without query or fragment: what messages and the snapshot's source name show (queries may carry tokens). */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Joins a path under a site root given in config, keeping any prefix it has (https://host/erp + /api/x). */
export function siteUrl(root: string, path: string): URL {
  const base = new URL(root);
  base.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  base.search = '';
  base.hash = '';
  return base;
}

/** Links found in a page (next links, Link headers) must stay on the configured origin, or credentials would follow them. */
export function checkFollowedUrl(next: URL, configured: URL, where: string): URL {
  if (next.origin !== configured.origin) {
    throw new SourceError(`${where}: the next page link points to ${next.origin}, not ${configured.origin}; not followed (credentials would go with it)`);
  }
  if (next.protocol !== 'https:' && !isLoopbackHostname(next.hostname)) throw new SourceError(`${where}: the next page link is not https: ${displayUrl(next)}`);
  return next;
}

/** A secret from the environment variable config names; registered for redaction before anything can print it. */
export function secretFromEnv(env: NodeJS.ProcessEnv, variable: string, key: string, configPath: string): string {
  const value = env[variable];
  if (value === undefined || value.trim() === '') {
    throw new InputError(
      `${configPath}: ${key}: environment variable ${variable} is not set (or empty); it must hold the secret, which never goes in the config file`,
    );
  }
  registerSecret(value);
  return value;
}

/**
 * Maps running record numbers back to (page, index) from one number per page, so a duplicate's
 * "first at" message can name its page without keeping every record.
 */
export class PageIndex {
  private readonly starts: number[] = [];

  /** Records that the page numbered starts.length + 1 starts at `firstOrdinal`. */
  addPage(firstOrdinal: number): void {
    this.starts.push(firstOrdinal);
  }

  locate(ordinal: number): { page: number; index: number } {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= ordinal) low = mid;
      else high = mid - 1;
    }
    return { page: low + 1, index: ordinal - (this.starts[low] ?? 1) + 1 };
  }
}

/** Parses `Link: <https://x/items?page=2>; rel="next", <…>; rel="last"` and returns the next URL, if any. */
export function nextFromLinkHeader(header: string | null, base: URL): URL | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(match[2]!);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return new URL(match[1]!, base);
  }
  return undefined;
}
