// Shopify's GraphQL endpoint, one request body at a time: parse, validate, the cost limits, the bucket, execution.
import {
  execute,
  getOperationAST,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLSchema,
} from 'graphql';
import { actualCost, MAX_SINGLE_QUERY_COST, requestedCost, type CostInput, type LeakyBucket, type ThrottleStatus } from './cost.js';
import type { EmulatorContext } from './graph.js';
import { compileInventoryMutation, type CompiledInventoryMutation } from './inventory-answer.js';
import type { Answer } from './http.js';
import type { MutationLedger } from './ledger.js';
import type { EmulatorCounters } from './server.js';

const DOCS = 'https://shopify.dev/api/usage/rate-limits';

/** What answering a request reads and counts. */
export interface GraphqlHost {
  schema: GraphQLSchema;
  bucket: LeakyBucket;
  ledger: MutationLedger;
  counters: EmulatorCounters;
  context: Omit<EmulatorContext, 'processing'>;
}

function costExtension(
  bucket: LeakyBucket,
  requested: number,
  actual: number | null,
): { cost: { requestedQueryCost: number; actualQueryCost: number | null; throttleStatus: ThrottleStatus } } {
  return { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: bucket.status() } };
}

/** A valid document, with its compiled form when it is an inventory mutation (null: it is not). */
type CheckedDocument = { document: DocumentNode; inventory: CompiledInventoryMutation | null } | { errors: unknown[] };
/** Parsed and validated documents by query text: a client sends the same few documents thousands of times. */
const checkedDocuments = new WeakMap<GraphQLSchema, Map<string, CheckedDocument>>();
const MAX_CHECKED_DOCUMENTS = 200;

function checkedDocument(schema: GraphQLSchema, query: string): CheckedDocument {
  let cache = checkedDocuments.get(schema);
  if (!cache) checkedDocuments.set(schema, (cache = new Map()));
  const known = cache.get(query);
  if (known) return known;
  let checked: CheckedDocument;
  try {
    const document = parse(query);
    const errors = validate(schema, document);
    checked = errors.length > 0 ? { errors: errors.map((e) => e.toJSON()) } : { document, inventory: compileInventoryMutation(schema, document) ?? null };
  } catch (error) {
    checked = { errors: [(error as GraphQLError).toJSON()] };
  }
  if (cache.size >= MAX_CHECKED_DOCUMENTS) cache.delete(cache.keys().next().value!);
  cache.set(query, checked);
  return checked;
}

/** Runs one GraphQL request body through parse, validation, cost, the bucket and execution. */
export async function answerGraphql(host: GraphqlHost, text: string, processing: () => Promise<void>): Promise<Answer> {
  let request: { query?: unknown; variables?: unknown; operationName?: unknown };
  try {
    request = JSON.parse(text) as typeof request;
  } catch {
    host.counters.badRequests++;
    return { status: 400, body: { errors: 'Body is not valid JSON' } };
  }
  if (!request || typeof request.query !== 'string' || request.query.trim() === '') {
    host.counters.badRequests++;
    return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } };
  }
  const variables = request.variables && typeof request.variables === 'object' ? (request.variables as Record<string, unknown>) : {};
  const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
  const checked = checkedDocument(host.schema, request.query);
  if ('errors' in checked) return { status: 200, body: { errors: checked.errors, extensions: costExtension(host.bucket, 0, 0) } };
  const { document, inventory } = checked;
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    return {
      status: 200,
      body: {
        errors: [
          {
            message: operationName ? `Unknown operation named "${operationName}".` : 'An operation name is required when the document has several operations.',
          },
        ],
        extensions: costExtension(host.bucket, 0, 0),
      },
    };
  }
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  const costInput: CostInput = { schema: host.schema, operation, fragments, variables };
  const requested = requestedCost(costInput);
  const maxCost = Math.min(MAX_SINGLE_QUERY_COST, host.bucket.maximumAvailable);
  if (requested > maxCost) {
    host.counters.maxCostExceeded++;
    return {
      status: 200,
      body: {
        errors: [
          {
            message: `Query cost is ${requested}, which exceeds the single query max cost limit (${maxCost}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n`,
            extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost, documentation: DOCS },
          },
        ],
        extensions: costExtension(host.bucket, requested, null),
      },
    };
  }
  if (!host.bucket.tryTake(requested)) {
    host.counters.throttled++;
    return {
      status: 200,
      body: {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: DOCS } }],
        extensions: costExtension(host.bucket, requested, null),
      },
    };
  }
  const replaysBefore = host.ledger.replays;
  const forgottenBefore = host.ledger.forgotten;
  // A query is processed before it reads; a mutation's resolver spends the time while holding its idempotency key.
  if (operation.operation !== 'mutation') await processing();
  const contextValue = { ...host.context, processing };
  const result =
    (await inventory?.run(contextValue, variables, operationName)) ??
    (await execute({ schema: host.schema, document, variableValues: variables, operationName, contextValue }));
  host.counters.idempotentReplays += host.ledger.replays - replaysBefore;
  host.counters.idempotencyKeysForgotten += host.ledger.forgotten - forgottenBefore;
  if (operation.operation === 'mutation') host.counters.mutations++;
  else host.counters.queries++;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.name.value.startsWith('__')) continue;
    const name = selection.name.value;
    host.counters.operations[name] = (host.counters.operations[name] ?? 0) + 1;
    if (name === 'bulkOperationRunQuery') host.counters.bulkOperations++;
  }
  const actual = actualCost(costInput, result.data);
  host.bucket.refund(requested - actual);
  const body: Record<string, unknown> = {};
  if (result.errors) body['errors'] = result.errors.map((e) => e.toJSON());
  if (result.data !== undefined) body['data'] = result.data;
  body['extensions'] = costExtension(host.bucket, requested, actual);
  return { status: 200, body };
}
