import type { LevelQuantities } from '../../store/shopify-snapshots.js';
import { SourceError } from '../../errors.js';

/** InventoryLevel.quantities as Shopify returns them ([{ name, quantity }]) to the snapshot's columns; absent names are 0. */
export function toLevelQuantities(quantities: unknown, where: string): LevelQuantities {
  const q: LevelQuantities = { available: 0, on_hand: 0, committed: 0, reserved: 0, incoming: 0 };
  if (!Array.isArray(quantities)) throw new SourceError(`${where}: expected a list of quantities, got ${JSON.stringify(quantities)}`);
  for (const entry of quantities as { name?: unknown; quantity?: unknown }[]) {
    const name = entry?.name;
    if (typeof name === 'string' && name in q) {
      if (typeof entry.quantity !== 'number' || !Number.isInteger(entry.quantity)) {
        throw new SourceError(`${where}: quantity "${name}" is not a whole number: ${JSON.stringify(entry.quantity)}`);
      }
      q[name as keyof LevelQuantities] = entry.quantity;
    }
  }
  return q;
}
