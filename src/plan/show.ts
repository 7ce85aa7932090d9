import { UsageError } from '../errors.js';
import type { PlanFile } from './file.js';
import type { ErpCorrection, PlanChange } from './model.js';

/** A SKU glob as SQLite's GLOB reads it (what diff and plan --sku take): `*`, `?`, `[…]`, `[^…]`, case-sensitive. */
export function globMatcher(pattern: string): (value: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      const body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^');
      source += `[${negated ? '^' : ''}${(negated ? body.slice(1) : body).replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`, 'u');
  return (value) => regex.test(value);
}

export interface PlanSelection {
  sku?: string;
  /** A location name or id of the plan. */
  location?: string;
}

/** A filter over a plan's rows; refuses a location the plan does not have, so a typo does not read as "no changes". */
export function planFilter(file: PlanFile, selection: PlanSelection): (row: { sku: string; locationId: string; locationName: string }) => boolean {
  const sku = selection.sku === undefined ? undefined : globMatcher(selection.sku);
  const location = selection.location;
  if (location !== undefined && !file.header.locations.some((l) => l.id === location || l.name === location)) {
    throw new UsageError(
      `--location ${JSON.stringify(location)}: the plan has no such location (its locations: ${file.header.locations.map((l) => l.name).join(', ') || 'none'})`,
    );
  }
  return (row) => (sku === undefined || sku(row.sku)) && (location === undefined || row.locationId === location || row.locationName === location);
}

/** The rows of a plan that match, up to `limit` of each kind, and how many match in all (one pass over the file). */
export function pagePlan(
  file: PlanFile,
  selection: PlanSelection,
  limit: number,
): { changes: PlanChange[]; erpCorrections: ErpCorrection[]; matching: { changes: number; erpCorrections: number } } {
  const keep = planFilter(file, selection);
  const page = { changes: [] as PlanChange[], erpCorrections: [] as ErpCorrection[], matching: { changes: 0, erpCorrections: 0 } };
  for (const change of file.changes()) {
    if (!keep(change)) continue;
    if (page.matching.changes++ < limit) page.changes.push(change);
  }
  for (const correction of file.erpCorrections()) {
    if (!keep(correction)) continue;
    if (page.matching.erpCorrections++ < limit) page.erpCorrections.push(correction);
  }
  return page;
}
