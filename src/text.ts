// Wording shared by the core's messages and the views: plain functions of their arguments.

/** The one way numbers are printed for people: 3,000. */
export function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 row", "1,200 rows". */
export function plural(count: number, word: string, pluralWord = word + 's'): string {
  return `${num(count)} ${count === 1 ? word : pluralWord}`;
}

/** A change with its sign: +3, 0, -2. */
export function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

/**
 * "3 levels left out: 2 of untracked items, 1 at inactive locations": diff, plan, sync, status, report,
 * alerts and watch say it alike (the fields of reconcile's LeftOut).
 */
export function leftOutLine(leftOut: { levels: number; ofUntrackedItems: number; atInactiveLocations: number }): string {
  const why = [
    leftOut.ofUntrackedItems ? `${num(leftOut.ofUntrackedItems)} of untracked items` : '',
    leftOut.atInactiveLocations ? `${num(leftOut.atInactiveLocations)} at inactive locations` : '',
  ].filter(Boolean);
  return `${plural(leftOut.levels, 'level')} left out: ${why.join(', ')}`;
}
