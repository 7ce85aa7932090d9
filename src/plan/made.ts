// A plan file is untrusted data, but one this database wrote is known: its digest is recorded with a
// fingerprint of what made it (the config, the bundles file and the tool version). A plan found with the same
// fingerprint is what the rules give for its baseline without recomputing it (a million changes take
// seconds to recompute); an edited file has another digest, a changed config another fingerprint.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LoadedConfig } from '../config/load.js';
import type { Db } from '../store/db.js';
import { planMadeInputs, recordPlanMade } from '../store/plans-made.js';
import { toolVersion } from '../version.js';
import { canonicalJson } from './model.js';

/** The config, the tool version and the bundles file (the one input the plan reads beside the snapshots); undefined when that file cannot be read. */
function inputsOf(config: LoadedConfig): string | undefined {
  const hash = createHash('sha256').update(canonicalJson({ tool: toolVersion, config }));
  if (config.bundles.csv) {
    try {
      hash.update(readFileSync(config.bundles.csv));
    } catch {
      return undefined;
    }
  }
  return hash.digest('hex');
}

/** Records that this database's plan builder wrote the plan with this digest from these inputs. */
export function rememberPlan(db: Db, config: LoadedConfig, digest: string): void {
  const inputs = inputsOf(config);
  if (inputs !== undefined) recordPlanMade(db, digest, inputs);
}

/** True when this database wrote the plan with this digest, from the same config, bundles and tool version. */
export function madeHere(db: Db, config: LoadedConfig, digest: string): boolean {
  const inputs = inputsOf(config);
  return inputs !== undefined && planMadeInputs(db, digest) === inputs;
}
