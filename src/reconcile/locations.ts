import type { Authority } from '../config/schema.js';
import type { LoadedConfig } from '../config/load.js';

export interface ShopifyLocation {
  id: string;
  name: string;
  /** Location.isActive; absent: active. */
  isActive?: boolean;
}

export interface ResolvedLocation {
  locationId: string;
  locationName: string;
  warehouses: string[];
  authority: Authority | undefined;
  /** config.locations index, for messages. */
  configIndex: number;
  /** False for a deactivated location: its levels are left out, nothing is written there. */
  isActive: boolean;
}

export interface LocationResolution {
  resolved: ResolvedLocation[];
  /** Problems with the mapping itself, each naming its config key: reported, never guessed. */
  problems: string[];
}

/**
 * Maps each config.locations entry to a Shopify location of the snapshot, by gid or by exact name.
 * A name that matches no location, or several, is a problem, not a guess.
 */
export function resolveLocations(config: Pick<LoadedConfig, 'locations'>, shopifyLocations: readonly ShopifyLocation[]): LocationResolution {
  const byId = new Map(shopifyLocations.map((l) => [l.id, l]));
  const resolved: ResolvedLocation[] = [];
  const problems: string[] = [];
  const claimed = new Map<string, number>();
  config.locations.forEach((entry, configIndex) => {
    const wanted = entry.shopifyLocation;
    let match: ShopifyLocation | undefined;
    if (wanted.startsWith('gid://shopify/Location/')) {
      match = byId.get(wanted);
      if (!match) problems.push(`locations[${configIndex}].shopifyLocation: no Shopify location has id ${wanted}`);
    } else {
      let named = shopifyLocations.filter((l) => l.name === wanted);
      // A deactivated location may share its name with the one that replaced it: the active one is meant.
      if (named.length > 1 && named.filter((l) => l.isActive !== false).length === 1) named = named.filter((l) => l.isActive !== false);
      if (named.length === 1) match = named[0];
      else if (named.length === 0) {
        const near = shopifyLocations.find((l) => l.name.toLowerCase() === wanted.toLowerCase());
        problems.push(
          `locations[${configIndex}].shopifyLocation: no Shopify location is named ${JSON.stringify(wanted)}${near ? ` (did you mean ${JSON.stringify(near.name)}?)` : ''}`,
        );
      } else {
        problems.push(
          `locations[${configIndex}].shopifyLocation: ${named.length} Shopify locations are named ${JSON.stringify(wanted)}; use the id (${named.map((l) => l.id).join(', ')})`,
        );
      }
    }
    if (!match) return;
    const earlier = claimed.get(match.id);
    if (earlier !== undefined) {
      // Two entries for one location would push two competing targets: merge them in config instead.
      problems.push(
        `locations[${configIndex}].shopifyLocation: ${JSON.stringify(match.name)} is already mapped by locations[${earlier}]; list all its warehouses in one entry`,
      );
      return;
    }
    claimed.set(match.id, configIndex);
    resolved.push({
      locationId: match.id,
      locationName: match.name,
      warehouses: entry.warehouses,
      authority: entry.authority,
      configIndex,
      isActive: match.isActive !== false,
    });
  });
  return { resolved, problems };
}
