import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildSchema, parse, validate, type GraphQLSchema } from 'graphql';
import { allDocuments } from '../../../src/sources/shopify/documents.js';
import { repoRoot } from '../../helpers/cli.js';

// Shopify's published Admin schema lives next to the repository (../shared/shopify); the
// @idempotent directive is missing from it and added here, as Shopify's server knows it.
const schemaPath = join(repoRoot, '..', 'shared', 'shopify', 'admin-2026-04.graphql');
const IDEMPOTENT = '\ndirective @idempotent(key: String!) on FIELD\n';

describe('GraphQL documents against the Shopify Admin schema 2026-04', () => {
  if (!existsSync(schemaPath)) {
    it('validates every document', (t) => {
      t.skip(`SKIPPED: ${schemaPath} is missing, so the documents could not be validated against Shopify's schema`);
    });
    return;
  }
  const schema: GraphQLSchema = buildSchema(readFileSync(schemaPath, 'utf8') + IDEMPOTENT, { assumeValidSDL: true });

  it('lists documents to check', () => {
    assert.ok(Object.keys(allDocuments).length >= 10);
  });

  for (const [name, document] of Object.entries(allDocuments)) {
    it(`${name} is valid`, () => {
      const errors = validate(schema, parse(document));
      assert.deepEqual(
        errors.map((e) => e.message),
        [],
        `${name} does not validate against ${schemaPath}`,
      );
    });
  }

  it('inventorySetQuantities carries @idempotent and compare-and-swap', () => {
    const document = allDocuments.INVENTORY_SET_QUANTITIES!;
    assert.match(document, /@idempotent\(key: \$idempotencyKey\)/);
    assert.match(document, /\$quantities: \[InventoryQuantityInput!\]!/);
  });

  it('rejects a document with a wrong field (the check has teeth)', () => {
    const errors = validate(schema, parse('query { inventoryItems(first: 1) { edges { node { skuu } } } }'));
    assert.ok(errors.some((e) => /skuu/.test(e.message)));
  });
});
