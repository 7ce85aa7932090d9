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
