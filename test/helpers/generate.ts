import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** Deterministic pseudo-random numbers (the emulator's generator), so generated data is the same on every run. */
import { createRng as rng } from '../../src/emulator/seed.js';

export { rng };

export function skuName(i: number): string {
  return `SKU-${String(i).padStart(7, '0')}`;
}

/** Writes an ERP CSV of `rows` rows: SKUs × warehouses WH-00.., streamed to disk. */
export async function writeErpCsv(path: string, rows: number, warehouses = 10, seed = 1): Promise<void> {
  const random = rng(seed);
  const out = createWriteStream(path);
  out.write('sku,warehouse,on_hand,reserved,incoming,safety_stock,category\n');
  let buffer = '';
  for (let i = 0; i < rows; i++) {
    const sku = skuName(Math.floor(i / warehouses));
    const warehouse = `WH-${String(i % warehouses).padStart(2, '0')}`;
    const onHand = Math.floor(random() * 100);
    const reserved = Math.floor(random() * Math.min(onHand + 1, 10));
    buffer += `${sku},${warehouse},${onHand},${reserved},${Math.floor(random() * 20)},,cat-${i % 7}\n`;
    if (buffer.length > 1 << 16) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}
