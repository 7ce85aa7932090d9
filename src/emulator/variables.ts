// graphql-js's coercion of variable values (getVariableValues), compiled once per operation for values it takes as
// they are. Anything it would refuse, fill in or reshape (a default, a lone value given for a list, an unknown field)
// comes back undefined, for graphql-js to coerce or refuse with its own errors.
import {
  isInputObjectType,
  isInputType,
  isListType,
  isNonNullType,
  typeFromAST,
  type GraphQLInputType,
  type GraphQLSchema,
  type VariableDefinitionNode,
} from 'graphql';

const FAIL = Symbol('graphql-js');
type Coerce = (value: unknown) => unknown;

function compileInput(type: GraphQLInputType): Coerce | undefined {
  const nonNull = isNonNullType(type);
  const inner = compileNullable(nonNull ? type.ofType : type);
  if (!inner) return undefined;
  return (value) => (value === null || value === undefined ? (nonNull ? FAIL : null) : inner(value));
}

function compileNullable(type: GraphQLInputType): Coerce | undefined {
  if (isListType(type)) {
    const item = compileInput(type.ofType);
    if (!item) return undefined;
    return (value) => {
      if (!Array.isArray(value)) return FAIL;
      const out = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) if ((out[i] = item(value[i])) === FAIL) return FAIL;
      return out;
    };
  }
  if (isInputObjectType(type)) {
    if (type.isOneOf) return undefined;
    const fields: { name: string; nonNull: boolean; defaultValue: unknown; coerce: Coerce }[] = [];
    for (const field of Object.values(type.getFields())) {
      const coerce = compileInput(field.type);
      if (!coerce) return undefined;
      fields.push({ name: field.name, nonNull: isNonNullType(field.type), defaultValue: field.defaultValue, coerce });
    }
    return (value) => {
      if (typeof value !== 'object' || Array.isArray(value)) return FAIL;
      const source = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      let given = 0;
      for (const field of fields) {
        const fieldValue = source[field.name];
        if (fieldValue === undefined) {
          if (field.defaultValue !== undefined || field.nonNull) return FAIL;
          continue;
        }
        given++;
        if ((out[field.name] = field.coerce(fieldValue)) === FAIL) return FAIL;
      }
      // A key no field reads is an unknown field.
      return Object.keys(source).length === given ? out : FAIL;
    };
  }
  return (value) => {
    try {
      const parsed: unknown = type.parseValue(value);
      return parsed === undefined ? FAIL : parsed;
    } catch {
      return FAIL;
    }
  };
}

/** The coerced variables, or undefined when graphql-js must coerce them; undefined when nothing could be compiled. */
export type CompiledVariables = (inputs: Record<string, unknown>) => Record<string, unknown> | undefined;

export function compileVariables(schema: GraphQLSchema, definitions: readonly VariableDefinitionNode[]): CompiledVariables | undefined {
  const variables: { name: string; nonNull: boolean; coerce: Coerce }[] = [];
  for (const definition of definitions) {
    if (definition.defaultValue || (definition.directives?.length ?? 0) > 0) return undefined;
    const type = typeFromAST(schema, definition.type);
    if (!type || !isInputType(type)) return undefined;
    const coerce = compileInput(type);
    if (!coerce) return undefined;
    variables.push({ name: definition.variable.name.value, nonNull: isNonNullType(type), coerce });
  }
  return (inputs) => {
    const out: Record<string, unknown> = {};
    for (const variable of variables) {
      if (!Object.prototype.hasOwnProperty.call(inputs, variable.name)) {
        if (variable.nonNull) return undefined;
        continue;
      }
      const value = variable.coerce(inputs[variable.name]);
      if (value === FAIL) return undefined;
      out[variable.name] = value;
    }
    return out;
  };
}
