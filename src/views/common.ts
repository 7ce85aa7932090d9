import Table from 'cli-table3';

export function renderJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** A plain table (no colours of its own, so it reads the same in a pipe). */
export function renderTable(head: string[], rows: (string | number)[][], align: ('left' | 'right')[] = []): string {
  const table = new Table({
    head,
    style: { head: [], border: [], compact: true },
    colAligns: head.map((_, i) => align[i] ?? 'left'),
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(row.map(String));
  return table.toString() + '\n';
}

export function plural(count: number, word: string, pluralWord = word + 's'): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? word : pluralWord}`;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
