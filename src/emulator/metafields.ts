// The shop resource and its metafields: metafieldsSet with compareDigest (compare-and-set), read back with
// shop { metafield(namespace:, key:) { value compareDigest updatedAt } }.
import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { SeedShop } from './seed.js';

export const MAX_METAFIELDS_PER_CALL = 25;
/** The namespace metafieldsSet uses when none is given (Shopify's app-reserved `app--<app id>`). */
export const APP_NAMESPACE = 'app--1';

/** Shopify's `$app:suffix` shorthand for the app-reserved namespace `app--<app id>--suffix` (`$app` alone: `app--<app id>`). */
export function resolveNamespace(namespace: string | null | undefined): string {
  if (namespace === null || namespace === undefined || namespace === '$app') return APP_NAMESPACE;
  return namespace.startsWith('$app:') ? `${APP_NAMESPACE}--${namespace.slice(5)}` : namespace;
}

export interface StoredMetafield {
  id: string;
  namespace: string;
  key: string;
  type: string;
  value: string;
  compareDigest: string;
  createdAt: string;
  updatedAt: string;
}

export interface MetafieldsSetInput {
  ownerId: string;
  namespace?: string | null;
  key: string;
  value: string;
  type?: string | null;
  compareDigest?: string | null;
}

export interface MetafieldsSetUserError {
  code: string;
  elementIndex: number | null;
  field: string[];
  message: string;
}

/** Types the emulator validates values for; other documented types are stored as given. */
const TYPES = new Set([
  'boolean',
  'color',
  'date',
  'date_time',
  'json',
  'money',
  'multi_line_text_field',
  'number_decimal',
  'number_integer',
  'rating',
  'rich_text_field',
  'single_line_text_field',
  'url',
  'volume',
  'weight',
  'dimension',
  'link',
  'id',
]);

/**
 * The digest of a stored value. Shopify documents only that the digest stands for "the persisted metafield value";
 * the emulator hashes the value alone, so writing a value back makes an old digest match again (the worse case).
 */
export function digestOf(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function valueProblem(type: string, value: string): string | undefined {
  switch (type) {
    case 'json':
      try {
        JSON.parse(value);
        return undefined;
      } catch {
        return 'Value is invalid JSON.';
      }
    case 'number_integer':
      return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? undefined : 'Value must be an integer.';
    case 'number_decimal':
      return /^-?\d+(\.\d+)?$/.test(value) ? undefined : 'Value must be a decimal.';
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : 'Value must be true or false.';
    case 'date_time':
      return Number.isNaN(Date.parse(value)) ? 'Value must be in ISO 8601 date and time format.' : undefined;
    case 'single_line_text_field':
      return value.includes('\n') ? 'Value must be a single line text string.' : undefined;
    default:
      return undefined;
  }
}

export class ShopResource {
  readonly id: string;
  readonly name: string;
  readonly myshopifyDomain: string;
  private readonly metafields = new Map<string, StoredMetafield>();
  private metafieldNumber = 0;

  constructor(
    seed: SeedShop | undefined,
    private readonly clock: () => number = Date.now,
  ) {
    this.id = seed?.id ?? 'gid://shopify/Shop/1';
    this.name = seed?.name ?? 'Emulated Shop';
    this.myshopifyDomain = seed?.myshopifyDomain ?? 'emulated-shop.myshopify.com';
    for (const metafield of seed?.metafields ?? []) this.store(resolveNamespace(metafield.namespace), metafield.key, metafield.type, metafield.value);
  }

  all(): StoredMetafield[] {
    return [...this.metafields.values()];
  }

  /** A metafield by namespace (`$app:…` understood) and key. */
  metafield(namespace: string | null | undefined, key: string): StoredMetafield | undefined {
    return this.metafields.get(`${resolveNamespace(namespace)}\u0000${key}`);
  }

  private store(namespace: string, key: string, type: string, value: string): StoredMetafield {
    const at = new Date(this.clock()).toISOString();
    const existing = this.metafield(namespace, key);
    const stored: StoredMetafield = existing
      ? { ...existing, type, value, compareDigest: digestOf(value), updatedAt: at }
      : { id: `gid://shopify/Metafield/${++this.metafieldNumber}`, namespace, key, type, value, compareDigest: digestOf(value), createdAt: at, updatedAt: at };
    this.metafields.set(`${namespace}\u0000${key}`, stored);
    return stored;
  }

  /** metafieldsSet: all rows are checked first; any error and nothing is written (Shopify: "atomic"). */
  set(inputs: readonly MetafieldsSetInput[]): { metafields: StoredMetafield[] | null; userErrors: MetafieldsSetUserError[] } {
    if (inputs.length > MAX_METAFIELDS_PER_CALL) {
      throw new GraphQLError(`The input array size of ${inputs.length} is greater than the maximum allowed of ${MAX_METAFIELDS_PER_CALL}.`, {
        path: ['metafieldsSet', 'metafields'],
        extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' },
      });
    }
    const errors: MetafieldsSetUserError[] = [];
    const seen = new Set<string>();
    inputs.forEach((input, index) => {
      const error = (code: string, field: string, message: string) =>
        errors.push({ code, elementIndex: index, field: ['metafields', String(index), field], message });
      const namespace = resolveNamespace(input.namespace);
      if (input.ownerId !== this.id) error('INVALID', 'ownerId', `Owner does not exist (the emulator keeps metafields of the shop ${this.id} only).`);
      if (namespace.length < 3) error('TOO_SHORT', 'namespace', 'Namespace is too short (minimum is 3 characters).');
      else if (namespace.length > 255) error('TOO_LONG', 'namespace', 'Namespace is too long (maximum is 255 characters).');
      else if (!/^[A-Za-z0-9_-]+$/.test(namespace)) error('INVALID', 'namespace', 'Namespace contains one or more invalid characters.');
      if (input.key.length < 2) error('TOO_SHORT', 'key', 'Key is too short (minimum is 2 characters).');
      else if (input.key.length > 64) error('TOO_LONG', 'key', 'Key is too long (maximum is 64 characters).');
      else if (!/^[A-Za-z0-9_-]+$/.test(input.key)) error('INVALID', 'key', 'Key contains one or more invalid characters.');
      const existing = this.metafield(namespace, input.key);
      const type = input.type ?? existing?.type;
      if (!type) error('BLANK', 'type', "Type can't be blank.");
      else if (!TYPES.has(type)) error('INVALID_TYPE', 'type', `Type '${type}' is not a valid metafield type.`);
      else if (existing && input.type && input.type !== existing.type)
        error('INVALID_TYPE', 'type', `Type '${input.type}' does not match the existing metafield's type '${existing.type}'.`);
      else {
        const problem = valueProblem(type, input.value);
        if (problem) error('INVALID_VALUE', 'value', problem);
      }
      const id = `${namespace}\u0000${input.key}`;
      if (seen.has(id)) error('INVALID', 'key', 'The same namespace and key appear twice in one call.');
      seen.add(id);
      // Absent compareDigest: no check. null: the metafield must not exist. A string: it must be the current digest.
      if (Object.prototype.hasOwnProperty.call(input, 'compareDigest')) {
        const expected = input.compareDigest;
        if (expected !== null && expected !== undefined && !/^[0-9a-f]{64}$/.test(expected))
          error('INVALID_COMPARE_DIGEST', 'compareDigest', 'The compareDigest is invalid.');
        else if (expected === null ? existing !== undefined : existing?.compareDigest !== expected) {
          error('STALE_OBJECT', 'compareDigest', 'The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.');
        }
      }
    });
    if (errors.length > 0) return { metafields: null, userErrors: errors };
    return {
      metafields: inputs.map((input) =>
        this.store(resolveNamespace(input.namespace), input.key, (input.type ?? this.metafield(input.namespace, input.key)?.type)!, input.value),
      ),
      userErrors: [],
    };
  }
}
