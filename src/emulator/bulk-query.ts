// Reading a bulk query before it runs: Shopify's checks on its shape, and its selections with fragments flattened.
import {
  getNamedType,
  isObjectType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { isConnectionType } from './cost.js';

const MAX_CONNECTIONS = 5;
const MAX_NESTING = 2;

/**
 * Validates a bulk query as Shopify does, before anything runs: one query operation, at least one connection,
 * at most 5, nested at most 2 deep, each selected through edges { node }, a nested connection's parent node
 * selecting its `id`, no top-level `node`. Every problem found is reported, each as its own user error.
 */
export function checkBulkQuery(schema: GraphQLSchema, query: string): { document: DocumentNode } | { errors: string[] } {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (error) {
    return { errors: [`Invalid bulk query: ${(error as Error).message}`] };
  }
  const validationErrors = validate(schema, document);
  if (validationErrors.length > 0) return { errors: [`Invalid bulk query: ${validationErrors.map((e) => e.message).join('; ')}`] };
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return { errors: ['Bulk queries must contain exactly one query operation.'] };
  if (operations[0]!.operation !== 'query') return { errors: ['Invalid operation type. Only `query` operations are supported.'] };
  const fragments = fragmentsOf(document);
  let connections = 0;
  let deepest = 0;
  const viaNodes: string[] = [];
  const withoutParentId: string[] = [];
  const root = schema.getQueryType()!;
  const rootFields = fieldsOf(root, operations[0]!.selectionSet, fragments);
  const walk = (type: GraphQLObjectType, set: SelectionSetNode | undefined, depth: number, parentConnection: string | undefined, parentHasId: boolean) => {
    for (const field of fieldsOf(type, set, fragments)) {
      const definition = type.getFields()[field.name.value];
      if (!definition) continue;
      const named = getNamedType(definition.type);
      if (isConnectionType(named)) {
        connections++;
        deepest = Math.max(deepest, depth + 1);
        const name = field.name.value;
        if (selects(field, 'nodes', fragments) && !viaNodes.includes(name)) viaNodes.push(name);
        if (parentConnection !== undefined && !parentHasId && !withoutParentId.includes(parentConnection)) withoutParentId.push(parentConnection);
        const nodeType = getNamedType((named as GraphQLObjectType).getFields()['nodes']!.type) as GraphQLObjectType;
        for (const inner of nodeSelections(field, fragments)) {
          const hasId = fieldsOf(nodeType, inner, fragments).some((child) => child.name.value === 'id' && !child.alias);
          walk(nodeType, inner, depth + 1, name, hasId);
        }
      } else if (isObjectType(named)) {
        walk(named, field.selectionSet, depth, parentConnection, parentHasId);
      }
    }
  };
  walk(root, operations[0]!.selectionSet, 0, undefined, false);
  const errors: string[] = [];
  if (viaNodes.length > 0) {
    errors.push(
      `All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: 'products { edges { node {'. Selecting via 'nodes' is not supported. Invalid connection fields: '${viaNodes.join("', '")}'.`,
    );
  }
  const topLevelNode = rootFields.some((field) => field.name.value === 'node' || field.name.value === 'nodes');
  if (topLevelNode) errors.push('Bulk queries cannot contain a top level `node` field.');
  if (deepest > MAX_NESTING) errors.push(`Bulk queries cannot contain connections with a nesting depth greater than ${MAX_NESTING}.`);
  if (connections > MAX_CONNECTIONS) errors.push(`Bulk queries cannot contain more than ${MAX_CONNECTIONS} connections.`);
  if (withoutParentId.length > 0) {
    errors.push(
      `The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': ${withoutParentId.join(', ')}.`,
    );
  }
  if (connections === 0 && (errors.length === 0 || (topLevelNode && errors.length === 1))) errors.push('Bulk queries must contain at least one connection.');
  return errors.length > 0 ? { errors } : { document };
}

/** Whether a connection field selects `name` (edges or nodes) directly. */
function selects(field: FieldNode, name: string, fragments: Record<string, FragmentDefinitionNode>): boolean {
  const connectionType = { name: '', getInterfaces: () => [] } as unknown as GraphQLObjectType;
  return fieldsOf(connectionType, field.selectionSet, fragments).some((child) => child.name.value === name);
}

export function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const out: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) out[definition.name.value] = definition;
  return out;
}

/** Fields of a selection set on a concrete type, fragments flattened. */
export function fieldsOf(type: GraphQLObjectType, set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>): FieldNode[] {
  const out: FieldNode[] = [];
  for (const selection of set?.selections ?? []) {
    if (selection.kind === Kind.FIELD) out.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (!selection.typeCondition || applies(type, selection.typeCondition.name.value)) out.push(...fieldsOf(type, selection.selectionSet, fragments));
    } else {
      const fragment = fragments[selection.name.value];
      if (fragment && applies(type, fragment.typeCondition.name.value)) out.push(...fieldsOf(type, fragment.selectionSet, fragments));
    }
  }
  return out;
}

function applies(type: GraphQLObjectType, condition: string): boolean {
  return condition === type.name || type.getInterfaces().some((i) => i.name === condition);
}

/** The node selections of a connection field: edges { node { … } } and nodes { … }. */
export function nodeSelections(field: FieldNode, fragments: Record<string, FragmentDefinitionNode>): SelectionSetNode[] {
  const out: SelectionSetNode[] = [];
  const connectionType = { name: '', getInterfaces: () => [] } as unknown as GraphQLObjectType;
  for (const child of fieldsOf(connectionType, field.selectionSet, fragments)) {
    if (child.name.value === 'nodes' && child.selectionSet) out.push(child.selectionSet);
    if (child.name.value === 'edges') {
      for (const edgeField of fieldsOf(connectionType, child.selectionSet, fragments)) {
        if (edgeField.name.value === 'node' && edgeField.selectionSet) out.push(edgeField.selectionSet);
      }
    }
  }
  return out;
}
