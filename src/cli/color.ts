import { supportsColor } from 'chalk';

/**
 * The chalk level for this run. --no-color wins, then --color, then FORCE_COLOR (0/false off, else on),
 * then NO_COLOR (any non-empty value: off); otherwise colour only when stdout is a terminal.
 */
export function colorLevel(flag: boolean | undefined, env: NodeJS.ProcessEnv, stdoutIsTty: boolean): 0 | 1 | 2 | 3 {
  const detected = supportsColor ? supportsColor.level : 0;
  if (flag === false) return 0;
  if (flag === true) return Math.max(1, detected) as 1 | 2 | 3;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    const level = Number.parseInt(force, 10);
    return Number.isInteger(level) && level >= 1 ? (Math.min(level, 3) as 1 | 2 | 3) : (Math.max(1, detected) as 1 | 2 | 3);
  }
  if (env.NO_COLOR) return 0;
  if (!stdoutIsTty || env.TERM === 'dumb') return 0;
  return Math.max(1, detected) as 1 | 2 | 3;
}
