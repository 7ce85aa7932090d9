import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScopes } from '../../../src/emulator/index.js';
import { freshKey, gql, ITEM_101, LOC_1, SET_MUTATION, setInput, startDemo } from './helpers.js';

const RUN = `mutation($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { id } userErrors { message } } }`;

describe('emulator access scopes', () => {
  it('lists the granted scopes on currentAppInstallation (all three by default)', async () => {
    const emulator = await startDemo();
    try {
      const answer = await gql(emulator, '{ currentAppInstallation { accessScopes { handle } } }');
      assert.deepEqual(
        answer.body.data!.currentAppInstallation.accessScopes.map((s: any) => s.handle),
        ['read_inventory', 'write_inventory', 'read_locations'],
      );
    } finally {
      await emulator.close();
    }
  });

  it('answers ACCESS_DENIED for a field whose scope is missing, and runs the rest', async () => {
    const emulator = await startDemo({ scopes: ['read_inventory'] });
    try {
      const read = await gql(emulator, '{ location { id } inventoryItems(first: 1) { nodes { id } } }');
      const errors = read.body.errors as any[];
      assert.equal(errors.length, 1);
      assert.equal(errors[0].message, 'Access denied for location field. Required access: `read_locations` access scope.');
      assert.deepEqual(errors[0].path, ['location']);
      assert.equal(errors[0].extensions.code, 'ACCESS_DENIED');
      assert.equal(errors[0].extensions.requiredAccess, '`read_locations` access scope.');
      assert.equal(read.body.data!.location, null);
      assert.equal(read.body.data!.inventoryItems.nodes.length, 1);
      const node = await gql(emulator, `{ node(id: "${LOC_1}") { id } }`);
      assert.equal((node.body.errors as any[])[0].extensions.code, 'ACCESS_DENIED');

      const write = await gql(emulator, SET_MUTATION, {
        key: freshKey(),
        input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: null }]),
      });
      assert.equal((write.body.errors as any[])[0].extensions.code, 'ACCESS_DENIED');
      assert.match((write.body.errors as any[])[0].message, /`write_inventory`/);
      assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 5);
      assert.deepEqual((await gql(emulator, '{ currentAppInstallation { accessScopes { handle } } }')).body.data!.currentAppInstallation.accessScopes, [
        { handle: 'read_inventory' },
      ]);
    } finally {
      await emulator.close();
    }
  });

  it('lets write_X stand for read_X, and fails a bulk query without its scope with errorCode ACCESS_DENIED', async () => {
    const emulator = await startDemo({ scopes: ['write_inventory'] });
    try {
      const read = await gql(emulator, '{ inventoryItems(first: 1) { nodes { id } } }');
      assert.equal(read.body.errors, undefined);
      const started = await gql(emulator, RUN, { query: '{ locations { edges { node { id } } } }' });
      const id = started.body.data!.bulkOperationRunQuery.bulkOperation.id;
      let operation: any;
      for (let attempt = 0; attempt < 500; attempt++) {
        operation = (await gql(emulator, `{ bulkOperation(id: "${id}") { status errorCode url } }`)).body.data!.bulkOperation;
        if (operation.status !== 'CREATED' && operation.status !== 'RUNNING') break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(operation, { status: 'FAILED', errorCode: 'ACCESS_DENIED', url: null });
    } finally {
      await emulator.close();
    }
  });

  it('parses --scopes lists and refuses what is not a scope handle', () => {
    assert.deepEqual(parseScopes('read_inventory, write_inventory,,read_inventory'), ['read_inventory', 'write_inventory']);
    assert.throws(() => parseScopes('read_inventory,inventory'), /"inventory" is not an access scope/);
  });
});
