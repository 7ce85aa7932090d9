import type { ShopifyClient } from '../../../src/sources/shopify/client.js';

/** A shop holding the record (value and digest), answering the two record documents only. */
export function recordShop(initial?: { value: string; digest: string }, refuseNullWith = 'STALE_OBJECT') {
  let stored = initial;
  let writes = 0;
  const calls: string[] = [];
  /** Writes to fail (a lost answer) from now on. */
  let failNext = 0;
  const client = {
    async request(document: string, variables: { metafields?: { value: string; compareDigest: string | null }[] }) {
      const name = /(?:query|mutation)\s+(\w+)/.exec(document)![1]!;
      calls.push(name);
      if (name === 'ShopAppliesRecord')
        return { data: { shop: { id: 'gid://shopify/Shop/1', metafield: stored ? { value: stored.value, compareDigest: stored.digest } : null } } };
      if (failNext > 0 && failNext--) throw new Error('the answer was lost');
      const input = variables.metafields![0]!;
      const expected = stored?.digest ?? null;
      if (input.compareDigest !== expected) {
        const code = input.compareDigest === null ? refuseNullWith : 'STALE_OBJECT';
        return { data: { metafieldsSet: { metafields: null, userErrors: [{ code, field: ['compareDigest'], message: 'refused' }] } } };
      }
      stored = { value: input.value, digest: `d${++writes}` };
      return { data: { metafieldsSet: { metafields: [{ compareDigest: stored.digest }], userErrors: [] } } };
    },
  } as unknown as ShopifyClient;
  return {
    client,
    calls,
    stored: () => stored,
    fail: (n: number) => (failNext = n),
    /** Another install writes the record. */
    put: (value: string) => (stored = { value, digest: `d${++writes}` }),
  };
}
