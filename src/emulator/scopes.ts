// Access scopes: which the emulated app was granted (--scopes), and Shopify's ACCESS_DENIED for a field without one.
import { GraphQLError } from 'graphql';

/** The scopes invrecon asks for; the emulator grants them all unless told otherwise. */
export const DEFAULT_SCOPES = ['read_inventory', 'write_inventory', 'read_locations'] as const;

/** Root fields and the scope each needs (Shopify's documented "Requires … access scope"). */
export const REQUIRED_SCOPES: Record<string, string> = {
  'QueryRoot.inventoryItem': 'read_inventory',
  'QueryRoot.inventoryItems': 'read_inventory',
  'QueryRoot.inventoryLevel': 'read_inventory',
  'QueryRoot.location': 'read_locations',
  'QueryRoot.locations': 'read_locations',
  'Mutation.inventorySetQuantities': 'write_inventory',
  'Mutation.inventoryAdjustQuantities': 'write_inventory',
};

/** Scopes needed to read a node of a type through node(id:)/nodes(ids:). */
export const NODE_SCOPES: Record<string, string> = {
  InventoryItem: 'read_inventory',
  InventoryLevel: 'read_inventory',
  Location: 'read_locations',
};

/** A granted write_X also grants read_X, as on Shopify. */
export function hasScope(granted: ReadonlySet<string>, needed: string): boolean {
  return granted.has(needed) || (needed.startsWith('read_') && granted.has(`write_${needed.slice(5)}`));
}

export function accessDenied(fieldName: string, scope: string): GraphQLError {
  return new GraphQLError(`Access denied for ${fieldName} field. Required access: \`${scope}\` access scope.`, {
    extensions: { code: 'ACCESS_DENIED', documentation: 'https://shopify.dev/api/usage/access-scopes', requiredAccess: `\`${scope}\` access scope.` },
  });
}

/** Parses --scopes: comma-separated handles such as read_inventory,write_inventory. */
export function parseScopes(text: string): string[] {
  const scopes = text
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope !== '');
  const bad = scopes.find((scope) => !/^(unauthenticated_)?(read|write)_[a-z_]+$/.test(scope));
  if (bad !== undefined) throw new Error(`--scopes: ${JSON.stringify(bad)} is not an access scope handle such as read_inventory`);
  return [...new Set(scopes)];
}
