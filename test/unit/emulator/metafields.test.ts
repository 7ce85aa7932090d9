import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestOf, loadSeed, startEmulator } from '../../../src/emulator/index.js';
import { demoSeedPath, gql, startDemo } from './helpers.js';

const SET = `mutation Set($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { id namespace key type value compareDigest updatedAt } userErrors { code elementIndex field message } }
}`;
const READ = `query Read($namespace: String!, $key: String!) { shop { id myshopifyDomain metafield(namespace: $namespace, key: $key) { value type compareDigest createdAt updatedAt } } }`;
const SHOP = 'gid://shopify/Shop/1';

function lease(value: string, compareDigest?: string | null): Record<string, unknown> {
  const input: Record<string, unknown> = { ownerId: SHOP, namespace: 'invrecon', key: 'lease', type: 'json', value };
  if (compareDigest !== undefined) input['compareDigest'] = compareDigest;
  return input;
}

describe('emulator shop metafields (metafieldsSet with compareDigest)', () => {
  it('creates with compareDigest null, reads back, and swaps only with the current digest', async () => {
    const emulator = await startDemo();
    try {
      const created = await gql(emulator, SET, { metafields: [lease('{"owner":"a"}', null)] });
      const [metafield] = created.body.data!.metafieldsSet.metafields;
      assert.deepEqual(created.body.data!.metafieldsSet.userErrors, []);
      assert.equal(metafield.compareDigest, digestOf('{"owner":"a"}'));
      const read = await gql(emulator, READ, { namespace: 'invrecon', key: 'lease' });
      assert.equal(read.body.data!.shop.id, SHOP);
      assert.equal(read.body.data!.shop.metafield.value, '{"owner":"a"}');
      assert.equal(read.body.data!.shop.metafield.compareDigest, metafield.compareDigest);
      assert.ok(!Number.isNaN(Date.parse(read.body.data!.shop.metafield.updatedAt)));

      const again = await gql(emulator, SET, { metafields: [lease('{"owner":"b"}', null)] });
      assert.equal(again.body.data!.metafieldsSet.metafields, null);
      assert.deepEqual(
        again.body.data!.metafieldsSet.userErrors.map((e: any) => [e.code, e.elementIndex, e.field]),
        [['STALE_OBJECT', 0, ['metafields', '0', 'compareDigest']]],
      );

      const swapped = await gql(emulator, SET, { metafields: [lease('{"owner":"b"}', metafield.compareDigest)] });
      assert.deepEqual(swapped.body.data!.metafieldsSet.userErrors, []);
      const stale = await gql(emulator, SET, { metafields: [lease('{"owner":"c"}', metafield.compareDigest)] });
      assert.equal(stale.body.data!.metafieldsSet.userErrors[0].code, 'STALE_OBJECT');
      assert.equal(emulator.state.metafield('invrecon', 'lease')!.value, '{"owner":"b"}');

      const blind = await gql(emulator, SET, { metafields: [lease('{"owner":"d"}')] });
      assert.deepEqual(blind.body.data!.metafieldsSet.userErrors, [], 'without compareDigest there is no check');
      assert.equal(emulator.state.metafield('invrecon', 'lease')!.value, '{"owner":"d"}');
    } finally {
      await emulator.close();
    }
  });

  it('understands the $app: namespace shorthand (the app-reserved app--<id>--suffix)', async () => {
    const emulator = await startDemo();
    try {
      const created = await gql(emulator, SET, {
        metafields: [{ ownerId: SHOP, namespace: '$app:invrecon', key: 'applies', type: 'json', value: '[]', compareDigest: null }],
      });
      assert.equal(created.body.data!.metafieldsSet.metafields[0].namespace, 'app--1--invrecon');
      const read = await gql(emulator, READ, { namespace: '$app:invrecon', key: 'applies' });
      assert.equal(read.body.data!.shop.metafield.value, '[]');
      assert.equal(emulator.state.metafield('$app:invrecon', 'applies')!.namespace, 'app--1--invrecon');
      assert.equal(emulator.state.metafield('app--1--invrecon', 'applies')!.value, '[]');
    } finally {
      await emulator.close();
    }
  });

  it('is atomic and validates owner, type, value, digest and sizes', async () => {
    const seed = loadSeed(demoSeedPath);
    const emulator = await startEmulator({
      seed: { ...seed, shop: { metafields: [{ namespace: 'invrecon', key: 'seeded', type: 'single_line_text_field', value: 'x' }] } },
    });
    try {
      const answer = await gql(emulator, SET, {
        metafields: [
          { ownerId: SHOP, namespace: 'invrecon', key: 'ok', type: 'number_integer', value: '7' },
          { ownerId: 'gid://shopify/Product/1', namespace: 'invrecon', key: 'other', type: 'json', value: '{}' },
          { ownerId: SHOP, namespace: 'invrecon', key: 'bad', type: 'json', value: '{' },
          { ownerId: SHOP, namespace: 'invrecon', key: 'notype', value: '1' },
          { ownerId: SHOP, namespace: 'invrecon', key: 'seeded', value: 'y', compareDigest: 'nope' },
        ],
      });
      const payload = answer.body.data!.metafieldsSet;
      assert.equal(payload.metafields, null);
      assert.deepEqual(
        payload.userErrors.map((e: any) => [e.elementIndex, e.code]),
        [
          [1, 'INVALID'],
          [2, 'INVALID_VALUE'],
          [3, 'BLANK'],
          [4, 'INVALID_COMPARE_DIGEST'],
        ],
      );
      assert.equal(emulator.state.metafield('invrecon', 'ok'), undefined, 'nothing of a refused call is written');
      const seeded = await gql(emulator, READ, { namespace: 'invrecon', key: 'seeded' });
      assert.equal(seeded.body.data!.shop.metafield.compareDigest, digestOf('x'));
      const missing = await gql(emulator, READ, { namespace: 'invrecon', key: 'absent' });
      assert.equal(missing.body.data!.shop.metafield, null);
      const tooMany = await gql(emulator, SET, {
        metafields: Array.from({ length: 26 }, (_, i) => ({ ownerId: SHOP, namespace: 'invrecon', key: `k${i}`, type: 'json', value: '1' })),
      });
      assert.equal((tooMany.body.errors as any[])[0].extensions.code, 'MAX_INPUT_SIZE_EXCEEDED');
    } finally {
      await emulator.close();
    }
  });
});
