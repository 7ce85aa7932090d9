// Shopify's calculated query cost and leaky bucket, in spirit: objects cost 1, scalars and enums 0, a connection
// 2 + first × (cost of one node), a mutation 10. The actual cost counts the nodes really returned.
import {
  getNamedType,
  isLeafType,
  isObjectType,
  isInterfaceType,
  Kind,
  valueFromAST,
  GraphQLInt,
  GraphQLID,
  GraphQLList,
  GraphQLNonNull,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type FieldNode,
} from 'graphql';

export const MUTATION_COST = 10;
export const MAX_SINGLE_QUERY_COST = 1000;

export interface CostInput {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

export function isConnectionType(type: GraphQLNamedType): boolean {
  return isObjectType(type) && type.name.endsWith('Connection') && 'pageInfo' in type.getFields();
}

function firstArgument(field: FieldNode, variables: Record<string, unknown>): number {
  const arg = field.arguments?.find((a) => a.name.value === 'first');
  if (!arg) return 0;
  const value = valueFromAST(arg.value, GraphQLInt, variables);
  return typeof value === 'number' && value > 0 ? value : 0;
}

function idsArgument(field: FieldNode, variables: Record<string, unknown>): number | undefined {
  const arg = field.arguments?.find((a) => a.name.value === 'ids');
  if (!arg) return undefined;
  const value = valueFromAST(arg.value, new GraphQLList(new GraphQLNonNull(GraphQLID)), variables);
  return Array.isArray(value) ? value.length : undefined;
}

/** The selections describing one node of a connection: edges { node { … } } and nodes { … }. */
function nodeSelections(
  field: FieldNode,
  fragments: Record<string, FragmentDefinitionNode>,
): { edges: { key: string; node: { key: string; set: SelectionSetNode }[] }[]; nodes: { key: string; set: SelectionSetNode }[] } {
  const edges: { key: string; node: { key: string; set: SelectionSetNode }[] }[] = [];
  const nodes: { key: string; set: SelectionSetNode }[] = [];
  const visit = (set: SelectionSetNode | undefined, into: 'connection' | 'edge', edge?: { key: string; node: { key: string; set: SelectionSetNode }[] }) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, into, edge);
      else if (selection.kind === Kind.FRAGMENT_SPREAD) visit(fragments[selection.name.value]?.selectionSet, into, edge);
      else if (into === 'connection' && selection.name.value === 'edges') {
        const entry = { key: selection.alias?.value ?? 'edges', node: [] as { key: string; set: SelectionSetNode }[] };
        edges.push(entry);
        visit(selection.selectionSet, 'edge', entry);
      } else if (into === 'connection' && selection.name.value === 'nodes' && selection.selectionSet) {
        nodes.push({ key: selection.alias?.value ?? 'nodes', set: selection.selectionSet });
      } else if (into === 'edge' && selection.name.value === 'node' && selection.selectionSet && edge) {
        edge.node.push({ key: selection.alias?.value ?? 'node', set: selection.selectionSet });
      }
    }
  };
  visit(field.selectionSet, 'connection');
  return { edges, nodes };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Cost of a selection set on parentType. With data undefined it is the requested (worst case) cost;
 * with data it is the actual cost of what was returned.
 */
function selectionCost(
  input: CostInput,
  parentType: GraphQLCompositeType,
  set: SelectionSetNode | undefined,
  data: Record<string, unknown> | undefined,
  actual: boolean,
): number {
  let cost = 0;
  for (const selection of set?.selections ?? []) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? (input.schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined) : parentType;
      if (type) cost += selectionCost(input, type, selection.selectionSet, data, actual);
      continue;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = input.fragments[selection.name.value];
      const type = fragment ? (input.schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined) : undefined;
      if (fragment && type) cost += selectionCost(input, type, fragment.selectionSet, data, actual);
      continue;
    }
    if (!isObjectType(parentType) && !isInterfaceType(parentType)) continue;
    const definition = parentType.getFields()[selection.name.value];
    if (!definition) continue;
    const named = getNamedType(definition.type);
    if (isLeafType(named)) continue;
    const key = selection.alias?.value ?? selection.name.value;
    if (isConnectionType(named)) {
      const nodeType = getNamedType(
        (named as { getFields(): Record<string, { type: Parameters<typeof getNamedType>[0] }> }).getFields()['nodes']!.type,
      ) as GraphQLCompositeType;
      const shape = nodeSelections(selection, input.fragments);
      if (!actual) {
        const perNode = Math.max(
          0,
          ...shape.edges.flatMap((edge) => edge.node.map((node) => selectionCost(input, nodeType, node.set, undefined, false))),
          ...shape.nodes.map((node) => selectionCost(input, nodeType, node.set, undefined, false)),
        );
        cost += 2 + firstArgument(selection, input.variables) * (1 + perNode);
      } else {
        const connection = record(data?.[key]);
        if (!connection) continue;
        cost += 2;
        // Count each returned node once, from edges if selected, else from nodes.
        const viaEdges = shape.edges.find((edge) => Array.isArray(connection[edge.key]));
        if (viaEdges) {
          for (const edge of connection[viaEdges.key] as unknown[]) {
            cost += 1;
            for (const node of viaEdges.node) cost += selectionCost(input, nodeType, node.set, record(record(edge)?.[node.key]), true);
          }
        } else {
          const viaNodes = shape.nodes.find((node) => Array.isArray(connection[node.key]));
          for (const node of viaNodes ? (connection[viaNodes.key] as unknown[]) : [])
            cost += 1 + selectionCost(input, nodeType, viaNodes!.set, record(node), true);
        }
      }
      continue;
    }
    const child = named as GraphQLCompositeType;
    // A list fetched by ids (nodes(ids:)) costs per id; other lists of objects cost like one object.
    const ids = idsArgument(selection, input.variables);
    if (!actual) {
      cost += (ids ?? 1) * (1 + selectionCost(input, child, selection.selectionSet, undefined, false));
    } else {
      const value = data?.[key];
      if (value === null || value === undefined) continue;
      if (ids !== undefined && Array.isArray(value)) {
        for (const entry of value) if (entry !== null) cost += 1 + selectionCost(input, child, selection.selectionSet, record(entry), true);
        continue;
      }
      const first = Array.isArray(value) ? value[0] : value;
      cost += 1 + selectionCost(input, child, selection.selectionSet, record(first), true);
    }
  }
  return cost;
}

/** The cost Shopify would reserve before running the operation. */
export function requestedCost(input: CostInput): number {
  if (input.operation.operation === 'mutation') return MUTATION_COST * countRootFields(input);
  const root = input.schema.getQueryType()!;
  return selectionCost(input, root, input.operation.selectionSet, undefined, false);
}

/** The cost of what the operation really returned (never above the requested cost). */
export function actualCost(input: CostInput, data: Record<string, unknown> | null | undefined): number {
  if (input.operation.operation === 'mutation') return MUTATION_COST * countRootFields(input);
  const root = input.schema.getQueryType()!;
  return Math.min(requestedCost(input), selectionCost(input, root, input.operation.selectionSet, data ?? {}, true));
}

function countRootFields(input: CostInput): number {
  let count = 0;
  const visit = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) count += selection.name.value === '__typename' ? 0 : 1;
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else visit(input.fragments[selection.name.value]?.selectionSet);
    }
  };
  visit(input.operation.selectionSet);
  return Math.max(1, count);
}

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/** A leaky bucket per shop: refills continuously at restoreRate points per second up to maximumAvailable. */
export class LeakyBucket {
  private level: number;
  private updatedAt: number;
  constructor(
    public maximumAvailable: number,
    public restoreRate: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.level = maximumAvailable;
    this.updatedAt = clock();
  }

  private refill(): void {
    const now = this.clock();
    this.level = Math.min(this.maximumAvailable, this.level + ((now - this.updatedAt) / 1000) * this.restoreRate);
    this.updatedAt = now;
  }

  /** Takes cost points if they are there; false means THROTTLED. */
  tryTake(cost: number): boolean {
    this.refill();
    if (cost > this.level) return false;
    this.level -= cost;
    return true;
  }

  refund(points: number): void {
    this.refill();
    this.level = Math.min(this.maximumAvailable, this.level + points);
  }

  status(): ThrottleStatus {
    this.refill();
    return { maximumAvailable: this.maximumAvailable, currentlyAvailable: Math.floor(this.level), restoreRate: this.restoreRate };
  }
}
