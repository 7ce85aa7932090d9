import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { ADJUST_MUTATION, freshKey, gql, ITEM_101, ITEM_102, ITEM_105, LOC_1, LOC_2, LOC_3, SET_MUTATION, setInput, startDemo } from './helpers.js';

const payload = (answer: { body: { data?: Record<string, any> } }, field = 'inventorySetQuantities') => answer.body.data![field];
const codes = (errors: { code: string }[]) => errors.map((e) => e.code);

describe('emulator inventorySetQuantities', () => {
  let emulator: RunningEmulator;
  beforeEach(async () => {
    emulator = await startDemo();
  });
  afterEach(() => emulator.close());

  it('sets available with a matching changeFromQuantity, moves on_hand by the same amount and reports the group', async () => {
    const answer = await gql(emulator, SET_MUTATION, {
      input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 9, changeFromQuantity: 5 }]),
      key: freshKey(),
    });
    const result = payload(answer);
    assert.deepEqual(result.userErrors, []);
    const group = result.inventoryAdjustmentGroup;
    assert.match(group.id, /^gid:\/\/shopify\/InventoryAdjustmentGroup\/\d+$/);
    assert.equal(group.reason, 'correction');
    assert.equal(group.referenceDocumentUri, 'gid://invrecon/Plan/1');
    assert.ok(!Number.isNaN(Date.parse(group.createdAt)));
    assert.deepEqual(group.changes, [
      { name: 'available', delta: 4, quantityAfterChange: 9, item: { id: ITEM_101, sku: 'TEE-RED-M' }, location: { id: LOC_1, name: 'Main Warehouse' } },
      { name: 'on_hand', delta: 4, quantityAfterChange: 11, item: { id: ITEM_101, sku: 'TEE-RED-M' }, location: { id: LOC_1, name: 'Main Warehouse' } },
    ]);
    assert.deepEqual(emulator.state.level(ITEM_101, LOC_1), {
      available: 9,
      on_hand: 11,
      committed: 2,
      reserved: 0,
      incoming: 0,
      damaged: 0,
      safety_stock: 0,
      quality_control: 0,
    });
    const history = emulator.state.history.map(({ kind, name, before, after, delta }) => ({ kind, name, before, after, delta }));
    assert.deepEqual(history, [
      { kind: 'set', name: 'available', before: 5, after: 9, delta: 4 },
      { kind: 'set', name: 'on_hand', before: 7, after: 11, delta: 4 },
    ]);
    assert.equal(emulator.state.history[0]!.referenceDocumentUri, 'gid://invrecon/Plan/1');
  });

  it('sets on_hand and moves available by the same amount', async () => {
    const answer = await gql(emulator, SET_MUTATION, {
      input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 4, changeFromQuantity: 7 }], { name: 'on_hand' }),
      key: freshKey(),
    });
    assert.deepEqual(payload(answer).userErrors, []);
    const level = emulator.state.level(ITEM_101, LOC_1)!;
    assert.equal(level.on_hand, 4);
    assert.equal(level.available, 2);
    assert.equal(level.committed, 2);
  });

  it('answers CHANGE_FROM_QUANTITY_STALE naming the row, and changes nothing', async () => {
    const answer = await gql(emulator, SET_MUTATION, {
      input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 9, changeFromQuantity: 4 }]),
      key: freshKey(),
    });
    const result = payload(answer);
    assert.equal(result.inventoryAdjustmentGroup, null);
    assert.deepEqual(
      result.userErrors.map((e: any) => [e.code, e.field]),
      [['CHANGE_FROM_QUANTITY_STALE', ['input', 'quantities', '0', 'changeFromQuantity']]],
    );
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 5);
    assert.equal(emulator.state.history.length, 0);
  });

  it('skips the compare-and-swap check when changeFromQuantity is explicitly null', async () => {
    const answer = await gql(emulator, SET_MUTATION, {
      input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: null }]),
      key: freshKey(),
    });
    assert.deepEqual(payload(answer).userErrors, []);
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 1);
  });

  it('refuses a row without changeFromQuantity (absent, not null) with a top-level error, in variables and inline', async () => {
    const viaVariables = await gql(emulator, SET_MUTATION, {
      input: setInput([
        { inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: null },
        { inventoryItemId: ITEM_102, locationId: LOC_1, quantity: 1 },
      ]),
      key: freshKey(),
    });
    const errors = viaVariables.body.errors as any[];
    assert.equal(errors[0].extensions.code, 'INVALID_FIELD_ARGUMENTS');
    assert.match(errors[0].message, /InventoryQuantityInput must include the following argument: changeFromQuantity/);
    assert.deepEqual(errors[0].path, ['inventorySetQuantities', 'input', 'quantities', 1]);
    const inline = await gql(
      emulator,
      `mutation { inventorySetQuantities(input: { reason: "correction", name: "available", quantities: [{ inventoryItemId: "${ITEM_101}", locationId: "${LOC_1}", quantity: 1 }] }) @idempotent(key: "inline-1") { userErrors { code } } }`,
    );
    assert.equal((inline.body.errors as any[])[0].extensions.code, 'INVALID_FIELD_ARGUMENTS');
    const inlineNull = await gql(
      emulator,
      `mutation { inventorySetQuantities(input: { reason: "correction", name: "available", quantities: [{ inventoryItemId: "${ITEM_101}", locationId: "${LOC_1}", quantity: 1, changeFromQuantity: null }] }) @idempotent(key: "inline-2") { userErrors { code } } }`,
    );
    assert.deepEqual(inlineNull.body.data!.inventorySetQuantities.userErrors, []);
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 1);
    assert.equal(emulator.state.level(ITEM_102, LOC_1)!.available, 8);
  });

  it('keeps one history array, brought up to date on each read, in order across writes and sales', async () => {
    const history = emulator.state.history;
    const key = freshKey();
    await gql(emulator, SET_MUTATION, {
      input: setInput([
        { inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 9, changeFromQuantity: 5 },
        { inventoryItemId: ITEM_102, locationId: LOC_1, quantity: 6, changeFromQuantity: 8 },
      ]),
      key,
    });
    emulator.state.sell(ITEM_101, LOC_1, 2);
    await gql(emulator, ADJUST_MUTATION, {
      input: { reason: 'correction', name: 'available', changes: [{ inventoryItemId: ITEM_102, locationId: LOC_1, delta: 1, changeFromQuantity: 6 }] },
      key: `${key}-adjust`,
    });
    assert.equal(emulator.state.history, history, 'the same array');
    const at = history[0]!.at;
    const set = (inventoryItemId: string, name: string, before: number, delta: number) => ({
      at,
      kind: 'set',
      inventoryItemId,
      locationId: LOC_1,
      name,
      before,
      after: before + delta,
      delta,
      idempotencyKey: key,
      referenceDocumentUri: 'gid://invrecon/Plan/1',
    });
    assert.deepEqual(history.slice(0, 4), [
      set(ITEM_101, 'available', 5, 4),
      set(ITEM_101, 'on_hand', 7, 4),
      set(ITEM_102, 'available', 8, -2),
      set(ITEM_102, 'on_hand', 8, -2),
    ]);
    assert.deepEqual(
      history.slice(4).map(({ kind, inventoryItemId, name, before, after }) => [kind, inventoryItemId, name, before, after]),
      [
        ['sale', ITEM_101, 'available', 9, 7],
        ['sale', ITEM_101, 'committed', 2, 4],
        ['adjust', ITEM_102, 'available', 6, 7],
        ['adjust', ITEM_102, 'on_hand', 6, 7],
      ],
    );
    assert.ok(!('referenceDocumentUri' in history[6]!), 'no document, no key');
  });

  it('requires the @idempotent directive', async () => {
    const query = SET_MUTATION.replace(' @idempotent(key: $key)', '').replace(', $key: String!', '');
    const answer = await gql(emulator, query, { input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: 5 }]) });
    const errors = answer.body.errors as any[];
    assert.equal(errors[0].extensions.code, 'BAD_REQUEST');
    assert.match(errors[0].message, /@idempotent directive is required/);
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 5);
  });

  it('replays the first result for a repeated key and input, changing nothing; another input under the key is a mismatch', async () => {
    const key = freshKey();
    const input = setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 9, changeFromQuantity: 5 }]);
    const first = payload(await gql(emulator, SET_MUTATION, { input, key }));
    const replay = payload(await gql(emulator, SET_MUTATION, { input, key }));
    assert.deepEqual(replay, first, 'same group, same changes');
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 9);
    assert.equal(emulator.state.history.length, 2, 'the replay recorded no change');
    assert.equal(emulator.state.counters.idempotentReplays, 1);
    const other = payload(
      await gql(emulator, SET_MUTATION, { input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 3, changeFromQuantity: 9 }]), key }),
    );
    assert.deepEqual(codes(other.userErrors), ['IDEMPOTENCY_KEY_PARAMETER_MISMATCH']);
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 9);
  });

  it('accepts 250 rows and refuses 251 with a top-level error', async () => {
    const rows = (count: number) =>
      Array.from({ length: count }, () => ({ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: null }));
    const tooMany = await gql(emulator, SET_MUTATION, { input: setInput(rows(251)), key: freshKey() });
    const errors = tooMany.body.errors as any[];
    assert.equal(errors[0].extensions.code, 'MAX_INPUT_SIZE_EXCEEDED');
    assert.match(errors[0].message, /251 is greater than the maximum allowed of 250/);
    const atLimit = await gql(emulator, SET_MUTATION, { input: setInput(rows(250)), key: freshKey() });
    // 250 rows pass the size check (then all but the first are duplicate pairs).
    assert.equal(atLimit.body.errors, undefined);
    assert.equal(payload(atLimit).userErrors.length, 249);
  });

  it('refuses a duplicate item/location pair', async () => {
    const answer = await gql(emulator, SET_MUTATION, {
      input: setInput([
        { inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: 5 },
        { inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 2, changeFromQuantity: 5 },
      ]),
      key: freshKey(),
    });
    assert.deepEqual(
      payload(answer).userErrors.map((e: any) => [e.code, e.field]),
      [['NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', ['input', 'quantities', '1']]],
    );
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 5);
  });

  it('refuses names other than available/on_hand, unknown reasons and malformed reference documents', async () => {
    const row = [{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: 5 }];
    const badName = payload(await gql(emulator, SET_MUTATION, { input: setInput(row, { name: 'committed' }), key: freshKey() }));
    assert.deepEqual(
      badName.userErrors.map((e: any) => [e.code, e.field]),
      [['INVALID_NAME', ['input', 'name']]],
    );
    const badReason = payload(await gql(emulator, SET_MUTATION, { input: setInput(row, { reason: 'because' }), key: freshKey() }));
    assert.deepEqual(
      badReason.userErrors.map((e: any) => [e.code, e.field]),
      [['INVALID_REASON', ['input', 'reason']]],
    );
    const badUri = payload(await gql(emulator, SET_MUTATION, { input: setInput(row, { referenceDocumentUri: 'no scheme here' }), key: freshKey() }));
    assert.deepEqual(codes(badUri.userErrors), ['INVALID_REFERENCE_DOCUMENT']);
    for (const reason of ['correction', 'cycle_count_available', 'received', 'restock', 'shrinkage', 'movement_created']) {
      const ok = payload(await gql(emulator, SET_MUTATION, { input: setInput([{ ...row[0]!, changeFromQuantity: null }], { reason }), key: freshKey() }));
      assert.deepEqual(ok.userErrors, [], reason);
    }
  });

  it('refuses unknown items and locations, and items not stocked at the location', async () => {
    const answer = await gql(emulator, SET_MUTATION, {
      input: setInput([
        { inventoryItemId: 'gid://shopify/InventoryItem/999', locationId: LOC_1, quantity: 1, changeFromQuantity: null },
        { inventoryItemId: ITEM_101, locationId: 'gid://shopify/Location/999', quantity: 1, changeFromQuantity: null },
        { inventoryItemId: ITEM_105, locationId: LOC_3, quantity: 1, changeFromQuantity: null },
      ]),
      key: freshKey(),
    });
    assert.deepEqual(
      payload(answer).userErrors.map((e: any) => [e.code, e.field]),
      [
        ['INVALID_INVENTORY_ITEM', ['input', 'quantities', '0', 'inventoryItemId']],
        ['INVALID_LOCATION', ['input', 'quantities', '1', 'locationId']],
        ['ITEM_NOT_STOCKED_AT_LOCATION', ['input', 'quantities', '2', 'locationId']],
      ],
    );
  });

  it('enforces quantity bounds: on_hand never negative, totals within ±1,000,000,000', async () => {
    const row = (quantity: number) => [{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity, changeFromQuantity: null }];
    const negative = payload(await gql(emulator, SET_MUTATION, { input: setInput(row(-1), { name: 'on_hand' }), key: freshKey() }));
    assert.deepEqual(
      negative.userErrors.map((e: any) => [e.code, e.field]),
      [['INVALID_QUANTITY_NEGATIVE', ['input', 'quantities', '0', 'quantity']]],
    );
    const high = payload(await gql(emulator, SET_MUTATION, { input: setInput(row(1_000_000_001)), key: freshKey() }));
    assert.deepEqual(codes(high.userErrors), ['INVALID_QUANTITY_TOO_HIGH']);
    const low = payload(await gql(emulator, SET_MUTATION, { input: setInput(row(-1_000_000_001)), key: freshKey() }));
    assert.deepEqual(codes(low.userErrors), ['INVALID_QUANTITY_TOO_LOW']);
    const onHandOverflow = payload(await gql(emulator, SET_MUTATION, { input: setInput(row(999_999_999)), key: freshKey() }));
    assert.deepEqual(
      codes(onHandOverflow.userErrors),
      ['INVALID_QUANTITY_TOO_HIGH'],
      'available 999,999,999 would push on_hand (with 2 committed) past the limit',
    );
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 5);
  });

  it('is all-or-nothing: one bad row blocks every row of the call, and every bad row is named', async () => {
    const answer = await gql(emulator, SET_MUTATION, {
      input: setInput([
        { inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 10, changeFromQuantity: 5 },
        { inventoryItemId: ITEM_102, locationId: LOC_1, quantity: 10, changeFromQuantity: 1 },
        { inventoryItemId: ITEM_102, locationId: LOC_2, quantity: 10, changeFromQuantity: 2 },
        { inventoryItemId: ITEM_105, locationId: LOC_2, quantity: 10, changeFromQuantity: null },
      ]),
      key: freshKey(),
    });
    const result = payload(answer);
    assert.equal(result.inventoryAdjustmentGroup, null);
    assert.deepEqual(
      result.userErrors.map((e: any) => e.field.slice(0, 3).join('.')),
      ['input.quantities.1', 'input.quantities.3'],
    );
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 5);
    assert.equal(emulator.state.level(ITEM_102, LOC_2)!.available, 2);
    assert.equal(emulator.state.history.length, 0);
  });

  it('filters changes(quantityNames:) and reports untouched names with delta 0', async () => {
    const query = `mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: "names-1") {
      inventoryAdjustmentGroup { changes(quantityNames: ["available", "committed"]) { name delta quantityAfterChange } } userErrors { code } } }`;
    const answer = await gql(emulator, query, { input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 6, changeFromQuantity: 5 }]) });
    assert.deepEqual(payload(answer).inventoryAdjustmentGroup.changes, [
      { name: 'available', delta: 1, quantityAfterChange: 6 },
      { name: 'committed', delta: 0, quantityAfterChange: 2 },
    ]);
  });
});

describe('emulator inventoryAdjustQuantities', () => {
  let emulator: RunningEmulator;
  beforeEach(async () => {
    emulator = await startDemo();
  });
  afterEach(() => emulator.close());

  const adjustInput = (changes: Record<string, unknown>[], overrides: Record<string, unknown> = {}) => ({
    reason: 'correction',
    name: 'available',
    changes,
    ...overrides,
  });

  it('adjusts available by a delta with compare-and-swap, moving on_hand too', async () => {
    const answer = await gql(emulator, ADJUST_MUTATION, {
      input: adjustInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: -2, changeFromQuantity: 5 }]),
      key: freshKey(),
    });
    const result = payload(answer, 'inventoryAdjustQuantities');
    assert.deepEqual(result.userErrors, []);
    assert.deepEqual(
      result.inventoryAdjustmentGroup.changes.map((c: any) => [c.name, c.delta, c.quantityAfterChange]),
      [
        ['available', -2, 3],
        ['on_hand', -2, 5],
      ],
    );
    assert.equal(emulator.state.history[0]!.kind, 'adjust');
    const stale = payload(
      await gql(emulator, ADJUST_MUTATION, {
        input: adjustInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: -2, changeFromQuantity: 5 }]),
        key: freshKey(),
      }),
      'inventoryAdjustQuantities',
    );
    assert.deepEqual(
      stale.userErrors.map((e: any) => [e.code, e.field]),
      [['CHANGE_FROM_QUANTITY_STALE', ['input', 'changes', '0', 'changeFromQuantity']]],
    );
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 3);
  });

  it('needs a ledger document for states other than available, and moves on_hand for unavailable states', async () => {
    const missing = payload(
      await gql(emulator, ADJUST_MUTATION, {
        input: adjustInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: 1, changeFromQuantity: null }], { name: 'damaged' }),
        key: freshKey(),
      }),
      'inventoryAdjustQuantities',
    );
    assert.deepEqual(codes(missing.userErrors), ['INVALID_QUANTITY_DOCUMENT']);
    const ok = payload(
      await gql(emulator, ADJUST_MUTATION, {
        input: adjustInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: 1, changeFromQuantity: 0, ledgerDocumentUri: 'gid://invrecon/Damage/1' }], {
          name: 'damaged',
          reason: 'damaged',
        }),
        key: freshKey(),
      }),
      'inventoryAdjustQuantities',
    );
    assert.deepEqual(ok.userErrors, []);
    const level = emulator.state.level(ITEM_101, LOC_1)!;
    assert.deepEqual([level.damaged, level.on_hand, level.available], [1, 8, 5]);
  });

  it('refuses committed, a ledger document on available, and requires changeFromQuantity and @idempotent', async () => {
    const committed = payload(
      await gql(emulator, ADJUST_MUTATION, {
        input: adjustInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: 1, changeFromQuantity: null }], { name: 'committed' }),
        key: freshKey(),
      }),
      'inventoryAdjustQuantities',
    );
    assert.deepEqual(codes(committed.userErrors), ['INVALID_QUANTITY_NAME']);
    const document = payload(
      await gql(emulator, ADJUST_MUTATION, {
        input: adjustInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: 1, changeFromQuantity: null, ledgerDocumentUri: 'gid://invrecon/X/1' }]),
        key: freshKey(),
      }),
      'inventoryAdjustQuantities',
    );
    assert.deepEqual(codes(document.userErrors), ['INVALID_AVAILABLE_DOCUMENT']);
    const absent = await gql(emulator, ADJUST_MUTATION, { input: adjustInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: 1 }]), key: freshKey() });
    assert.match((absent.body.errors as any[])[0].message, /InventoryChangeInput must include the following argument: changeFromQuantity/);
    const noKey = await gql(emulator, ADJUST_MUTATION.replace(' @idempotent(key: $key)', '').replace(', $key: String!', ''), {
      input: adjustInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: 1, changeFromQuantity: null }]),
    });
    assert.equal((noKey.body.errors as any[])[0].extensions.code, 'BAD_REQUEST');
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 5);
  });

  it('replays a key and refuses it for other parameters, across both mutations', async () => {
    const key = freshKey();
    const input = adjustInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, delta: 3, changeFromQuantity: null }]);
    await gql(emulator, ADJUST_MUTATION, { input, key });
    await gql(emulator, ADJUST_MUTATION, { input, key });
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 8);
    const crossed = payload(
      await gql(emulator, SET_MUTATION, { input: setInput([{ inventoryItemId: ITEM_101, locationId: LOC_1, quantity: 1, changeFromQuantity: null }]), key }),
    );
    assert.deepEqual(codes(crossed.userErrors), ['IDEMPOTENCY_KEY_PARAMETER_MISMATCH']);
  });

  it('keeps within ±2,000,000,000 and is all-or-nothing', async () => {
    const answer = payload(
      await gql(emulator, ADJUST_MUTATION, {
        input: adjustInput([
          { inventoryItemId: ITEM_101, locationId: LOC_1, delta: 1, changeFromQuantity: null },
          { inventoryItemId: ITEM_102, locationId: LOC_1, delta: 2_000_000_000, changeFromQuantity: null },
        ]),
        key: freshKey(),
      }),
      'inventoryAdjustQuantities',
    );
    assert.deepEqual(
      answer.userErrors.map((e: any) => [e.code, e.field]),
      [['INVALID_QUANTITY_TOO_HIGH', ['input', 'changes', '1', 'delta']]],
    );
    assert.equal(emulator.state.level(ITEM_101, LOC_1)!.available, 5);
  });
});
