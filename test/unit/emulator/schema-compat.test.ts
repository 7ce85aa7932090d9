import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  parse,
  validate,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { EMULATOR_SDL } from '../../../src/emulator/sdl.js';
import { repoRoot } from '../../helpers/cli.js';
import { ADJUST_MUTATION, SET_MUTATION } from './helpers.js';

// The main checkout sits next to shared/; a helper's worktree (wt/<name>) one level further down.
const SHARED_SCHEMA = [join(repoRoot, '..', 'shared'), join(repoRoot, '..', '..', 'shared')]
  .map((dir) => join(dir, 'shopify', 'admin-2026-04.graphql'))
  .reduce((found, candidate) => (existsSync(found) ? found : candidate));
const missing = !existsSync(SHARED_SCHEMA);
if (missing) process.stdout.write(`# SKIPPED: Shopify's schema ${SHARED_SCHEMA} is missing, so the emulator's names cannot be checked against it\n`);

function kind(type: GraphQLNamedType): string {
  if (isObjectType(type)) return 'object';
  if (isInterfaceType(type)) return 'interface';
  if (isInputObjectType(type)) return 'input';
  if (isEnumType(type)) return 'enum';
  if (isScalarType(type)) return 'scalar';
  return 'union';
}

describe("the emulator's schema is a subset of Shopify's 2026-04 Admin schema", { skip: missing ? `missing ${SHARED_SCHEMA}` : false }, () => {
  let shopify: GraphQLSchema;
  const emulator = buildSchema(EMULATOR_SDL);

  it('loads the shared schema (with the @idempotent directive added)', () => {
    shopify = buildSchema(`${readFileSync(SHARED_SCHEMA, 'utf8')}\ndirective @idempotent(key: String!) on FIELD\n`, { assumeValidSDL: true });
    assert.equal(shopify.getQueryType()?.name, 'QueryRoot');
  });

  it('has every type, field, argument and enum value under the same name and type', () => {
    const problems: string[] = [];
    for (const type of Object.values(emulator.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      const real = shopify.getType(type.name);
      if (!real) {
        problems.push(`type ${type.name} does not exist`);
        continue;
      }
      if (kind(real) !== kind(type)) problems.push(`${type.name} is a ${kind(real)}, not a ${kind(type)}`);
      if (isEnumType(type) && isEnumType(real)) {
        for (const value of type.getValues()) if (!real.getValue(value.name)) problems.push(`enum value ${type.name}.${value.name} does not exist`);
      }
      if ((isObjectType(type) || isInterfaceType(type)) && (isObjectType(real) || isInterfaceType(real))) {
        for (const interfaceType of type.getInterfaces()) {
          if (!real.getInterfaces().some((i) => i.name === interfaceType.name)) problems.push(`${type.name} does not implement ${interfaceType.name}`);
        }
        const realFields = real.getFields();
        for (const field of Object.values(type.getFields())) {
          const realField = realFields[field.name];
          if (!realField) {
            problems.push(`field ${type.name}.${field.name} does not exist`);
            continue;
          }
          if (String(realField.type) !== String(field.type))
            problems.push(`${type.name}.${field.name} is ${String(realField.type)}, not ${String(field.type)}`);
          for (const arg of field.args) {
            const realArg = realField.args.find((a) => a.name === arg.name);
            if (!realArg) problems.push(`argument ${type.name}.${field.name}(${arg.name}) does not exist`);
            else if (String(realArg.type) !== String(arg.type))
              problems.push(`${type.name}.${field.name}(${arg.name}) is ${String(realArg.type)}, not ${String(arg.type)}`);
            else if (JSON.stringify(realArg.defaultValue) !== JSON.stringify(arg.defaultValue))
              problems.push(`${type.name}.${field.name}(${arg.name}) defaults to ${JSON.stringify(realArg.defaultValue)}`);
          }
          for (const realArg of realField.args) {
            if (String(realArg.type).endsWith('!') && realArg.defaultValue === undefined && !field.args.some((a) => a.name === realArg.name)) {
              problems.push(`required argument ${type.name}.${field.name}(${realArg.name}) is missing`);
            }
          }
        }
      }
      if (isInputObjectType(type) && isInputObjectType(real)) {
        const realFields = real.getFields();
        for (const field of Object.values(type.getFields())) {
          const realField = realFields[field.name];
          if (!realField) problems.push(`input field ${type.name}.${field.name} does not exist`);
          else if (String(realField.type) !== String(field.type))
            problems.push(`${type.name}.${field.name} is ${String(realField.type)}, not ${String(field.type)}`);
        }
        for (const realField of Object.values(realFields)) {
          if (String(realField.type).endsWith('!') && realField.defaultValue === undefined && !type.getFields()[realField.name])
            problems.push(`required input field ${type.name}.${realField.name} is missing`);
        }
      }
    }
    const directive = emulator.getDirective('idempotent')!;
    assert.equal(String(directive.args[0]!.type), 'String!');
    assert.deepEqual(problems, []);
  });

  it('accepts the mutation documents the tests send, validated against Shopify schema', () => {
    const documents = [
      'mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { id namespace key type value compareDigest createdAt updatedAt } userErrors { code elementIndex field message } } }',
      '{ shop { id name myshopifyDomain metafield(namespace: "invrecon", key: "lease") { id value compareDigest updatedAt } } currentAppInstallation { id accessScopes { handle description } } }',
      '{ locations(first: 5, includeInactive: true) { nodes { id isActive } } inventoryItems(first: 1) { nodes { tracked } } }',
    ];
    for (const document of [
      ...documents,
      SET_MUTATION,
      ADJUST_MUTATION,
      '{ inventoryItems(first: 2, query: "sku:A") { nodes { id sku inventoryLevels(first: 5) { nodes { id location { id name } quantities(names: ["available"]) { name quantity } } } } pageInfo { hasNextPage endCursor } } }',
    ]) {
      assert.deepEqual(
        validate(shopify, parse(document)).map((e) => e.message),
        [],
      );
    }
  });
});
