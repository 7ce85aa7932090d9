import type { Db } from './db.js';

// Plans written by this database's plan builder, with the fingerprint of the inputs that made them
// (see migration 080): a plan found here with the same fingerprint needs no recomputing before apply.

export function recordPlanMade(db: Db, digest: string, inputs: string, at = new Date()): void {
  db.prepare('INSERT INTO plans_made (plan_digest, inputs, made_at) VALUES (?, ?, ?) ON CONFLICT (plan_digest) DO UPDATE SET inputs = excluded.inputs').run(
    digest,
    inputs,
    at.toISOString(),
  );
}

/** The fingerprint of the inputs a plan with this digest was made from here, if it was. */
export function planMadeInputs(db: Db, digest: string): string | undefined {
  return db.prepare('SELECT inputs FROM plans_made WHERE plan_digest = ?').pluck().get(digest) as string | undefined;
}
