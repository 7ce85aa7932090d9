// A plan file is untrusted data, but one this database wrote is known: its digest is recorded with a
// fingerprint of what made it (the config and the tool version). A plan found with the same
// fingerprint is what the rules give for its baseline without recomputing it (a million changes take
// seconds to recompute); an edited file has another digest, a changed config another fingerprint.
import { createHash } from 'node:crypto';
import type { LoadedConfig } from '../config/load.js';
import type { Db } from '../store/db.js';
import { planMadeInputs, recordPlanMade } from '../store/plans-made.js';
import { toolVersion } from '../version.js';
import { canonicalJson } from './model.js';

function inputsOf(config: LoadedConfig): string {
  return createHash('sha256')
    .update(canonicalJson({ tool: toolVersion, config }))
    .digest('hex');
}

/** Records that this database's plan builder wrote the plan with this digest from this config. */
export function rememberPlan(db: Db, config: LoadedConfig, digest: string): void {
  recordPlanMade(db, digest, inputsOf(config));
}

/** True when this database wrote the plan with this digest, from the same config and tool version. */
export function madeHere(db: Db, config: LoadedConfig, digest: string): boolean {
  return planMadeInputs(db, digest) === inputsOf(config);
}
