// The inventory mutations a client sends by the thousand (250 rows each), run without graphql-js's field-by-field
// execution, which cost more CPU than the write itself: the same coercion, checks, resolvers and scalar serialisation,
// compiled once per document. Whatever falls outside the plain case (fragments, directives, variables below the root,
// user errors, a value graphql-js would refuse) is handed to graphql-js, which stays the reference.
import {
  defaultFieldResolver,
  execute,
  getArgumentValues,
  getVariableValues,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  visit,
} from 'graphql';
import { idempotencyKeyOf, runInventoryMutation, type EmulatorContext, type InventoryMutationName } from './graph.js';
import type { InventoryPayload } from './ledger.js';
import { hasScope, REQUIRED_SCOPES } from './scopes.js';
import type { AdjustQuantitiesInput, SetQuantitiesInput } from './mutations.js';
import { compileVariables } from './variables.js';

/** Types whose resolvers read nothing of `info` but the field's name, so a partial one is enough. */
const COMPILED_TYPES = new Set([
  'InventorySetQuantitiesPayload',
  'InventoryAdjustQuantitiesPayload',
  'InventorySetQuantitiesUserError',
  'InventoryAdjustQuantitiesUserError',
  'InventoryAdjustmentGroup',
  'InventoryChange',
  'InventoryItem',
  'Location',
]);
const MUTATIONS = new Set<string>(['inventorySetQuantities', 'inventoryAdjustQuantities']);
/** A completion graphql-js must do: its answer (an error, a null propagated up) is its own. */
const FALLBACK = Symbol('graphql-js');
const NO_ARGS = Object.freeze({});

type Complete = (value: unknown, context: EmulatorContext) => unknown;

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** What completeValue does for one type, or undefined when the selection is outside what is compiled. */
function compileType(schema: GraphQLSchema, type: GraphQLOutputType, node: FieldNode): Complete | undefined {
  const nonNull = isNonNullType(type);
  const inner = compileNullable(schema, nonNull ? type.ofType : type, node);
  if (!inner) return undefined;
  return (value, context) => {
    if (value === null || value === undefined) return nonNull ? FALLBACK : null;
    if (value instanceof Error || isThenable(value)) return FALLBACK;
    return inner(value, context);
  };
}

function compileNullable(schema: GraphQLSchema, type: GraphQLOutputType, node: FieldNode): Complete | undefined {
  if (isListType(type)) {
    const item = compileType(schema, type.ofType, node);
    if (!item) return undefined;
    return (value, context) => {
      if (!Array.isArray(value)) return FALLBACK;
      const out = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) {
        const completed = item(value[i], context);
        if (completed === FALLBACK) return FALLBACK;
        out[i] = completed;
      }
      return out;
    };
  }
  if (isScalarType(type) || isEnumType(type)) {
    return (value) => {
      try {
        const serialized: unknown = type.serialize(value);
        return serialized === null || serialized === undefined ? FALLBACK : serialized;
      } catch {
        return FALLBACK;
      }
    };
  }
  if (isObjectType(type)) return compileObject(schema, type, node.selectionSet);
  return undefined;
}

function compileObject(schema: GraphQLSchema, type: GraphQLObjectType, set: SelectionSetNode | undefined): Complete | undefined {
  if (!set || !COMPILED_TYPES.has(type.name) || type.isTypeOf) return undefined;
  const keys: string[] = [];
  const fields: { resolve: GraphQLFieldResolver<unknown, EmulatorContext>; args: object; info: GraphQLResolveInfo; complete: Complete }[] = [];
  const defined = type.getFields();
  for (const selection of set.selections) {
    if (selection.kind !== Kind.FIELD || (selection.directives?.length ?? 0) > 0) return undefined;
    const key = selection.alias?.value ?? selection.name.value;
    // Repeated keys merge in graphql-js; a __proto__ key would be the prototype of a plain object.
    if (keys.includes(key) || key === '__proto__') return undefined;
    const name = selection.name.value;
    keys.push(key);
    if (name === '__typename') {
      fields.push({ resolve: () => type.name, args: NO_ARGS, info: undefined as never, complete: (value) => value });
      continue;
    }
    const definition = Object.prototype.hasOwnProperty.call(defined, name) ? defined[name]! : undefined;
    if (!definition || definition.args.some((arg) => arg.defaultValue !== undefined)) return undefined;
    const args = constantArguments(definition, selection);
    if (!args) return undefined;
    const complete = compileType(schema, definition.type, selection);
    if (!complete) return undefined;
    const info = { fieldName: name, fieldNodes: [selection], returnType: definition.type, parentType: type, schema } as unknown as GraphQLResolveInfo;
    fields.push({ resolve: (definition.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, EmulatorContext>, args, info, complete });
  }
  return (source, context) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      let value: unknown;
      try {
        value = field.resolve(source, field.args, context, field.info);
      } catch {
        return FALLBACK;
      }
      const completed = field.complete(value, context);
      if (completed === FALLBACK) return FALLBACK;
      out[keys[i]!] = completed;
    }
    return out;
  };
}

/**
 * A field's arguments when they are written out in the document (`changes(quantityNames: ["available"])`), coerced
 * once; undefined when one comes from a variable or graphql-js would refuse it (its answer is then its own).
 */
function constantArguments(definition: GraphQLField<unknown, unknown>, selection: FieldNode): object | undefined {
  if (!selection.arguments?.length) return NO_ARGS;
  let variable = false;
  for (const argument of selection.arguments) visit(argument.value, { Variable: () => void (variable = true) });
  if (variable) return undefined;
  try {
    return Object.freeze(getArgumentValues(definition, selection));
  } catch {
    return undefined;
  }
}

/** An inventory mutation document, compiled: `run` answers it, or says graphql-js must (nothing ran then). */
export interface CompiledInventoryMutation {
  run(context: EmulatorContext, variables: Record<string, unknown>, operationName: string | undefined): Promise<ExecutionResult | undefined>;
}

/** Compiles a document that is one inventory mutation (one root field, @idempotent its only directive), else undefined. */
export function compileInventoryMutation(schema: GraphQLSchema, document: DocumentNode): CompiledInventoryMutation | undefined {
  if (document.definitions.length !== 1) return undefined;
  const operation = document.definitions[0] as OperationDefinitionNode;
  if (operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'mutation' || (operation.directives?.length ?? 0) > 0) return undefined;
  if (operation.selectionSet.selections.length !== 1) return undefined;
  const root = operation.selectionSet.selections[0]!;
  if (root.kind !== Kind.FIELD || !MUTATIONS.has(root.name.value)) return undefined;
  if (root.directives?.length !== 1 || root.directives[0]!.name.value !== 'idempotent') return undefined;
  const key = root.alias?.value ?? root.name.value;
  if (key === '__proto__') return undefined;
  const name = root.name.value as InventoryMutationName;
  const definition = schema.getMutationType()!.getFields()[name]!;
  const complete = compileType(schema, definition.type, root);
  if (!complete) return undefined;
  const scope = REQUIRED_SCOPES[`Mutation.${name}`];
  const coerceVariables = compileVariables(schema, operation.variableDefinitions ?? []);
  return {
    async run(context, variables, operationName) {
      // Everything that could refuse the call comes first, and any refusal is graphql-js's to give.
      let coerced = coerceVariables?.(variables);
      if (!coerced) {
        const coercion = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 50 });
        if ('errors' in coercion) return undefined;
        coerced = coercion.coerced;
      }
      if (scope && !hasScope(context.scopes, scope)) return undefined;
      let answered: Promise<InventoryPayload>;
      try {
        const args = getArgumentValues(definition, root, coerced) as { input: SetQuantitiesInput | AdjustQuantitiesInput };
        answered = runInventoryMutation(name, args.input, idempotencyKeyOf(schema, root, coerced), context);
      } catch {
        return undefined;
      }
      // graphql-js completes what the write answered (it settled already: the same promise, awaited again).
      const fallback = () => execute({ schema, document, variableValues: variables, operationName, contextValue: { ...context, answered } });
      let payload: InventoryPayload;
      try {
        payload = await answered;
      } catch {
        return fallback();
      }
      const data = complete(payload, context);
      if (data === FALLBACK) return fallback();
      return { data: { [key]: data } };
    },
  };
}
