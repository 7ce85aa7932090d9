// Bulk operations: run a query over every node, stream the JSONL result to a file, serve it by URL.
// Nested connection nodes become their own lines with __parentId, and some are written after later parents,
// as Shopify's are ("children come after their parent, not necessarily right after").
import { createWriteStream, mkdtempSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  defaultFieldResolver,
  getArgumentValues,
  getNamedType,
  getNullableType,
  isLeafType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { checkBulkQuery, fieldsOf, fragmentsOf, nodeSelections } from './bulk-query.js';
import { isConnectionType } from './cost.js';
import { bulkIterators, type BulkIterator, type EmulatorContext } from './graph.js';
import { hasScope, REQUIRED_SCOPES } from './scopes.js';

export interface BulkOperationRecord {
  id: string;
  status: 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED';
  type: 'QUERY';
  query: string;
  createdAt: string;
  completedAt: string | null;
  objectCount: number;
  rootObjectCount: number;
  fileSize: number | null;
  url: string | null;
  partialDataUrl: null;
  errorCode: 'INTERNAL_SERVER_ERROR' | 'ACCESS_DENIED' | null;
}

interface UserError {
  code: 'INVALID' | 'OPERATION_IN_PROGRESS' | 'LIMIT_REACHED';
  field: string[] | null;
  message: string;
}

const MAX_RUNNING = 5;
/** Every DEFER_EVERY-th child line is held back until after the next root line. */
const DEFER_EVERY = 3;

/** Buffers lines into ~64 KB chunks and honours the stream's backpressure. */
class LineSink {
  private chunk: string[] = [];
  private size = 0;
  bytes = 0;
  constructor(private readonly stream: WriteStream) {}
  async write(line: string): Promise<void> {
    this.chunk.push(line, '\n');
    this.size += line.length + 1;
    this.bytes += Buffer.byteLength(line) + 1;
    if (this.size >= 65536) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.chunk.length === 0) return;
    const text = this.chunk.join('');
    this.chunk = [];
    this.size = 0;
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }
  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

interface FieldStep {
  key: string;
  constant?: string;
  resolve?: GraphQLFieldResolver<unknown, EmulatorContext>;
  args?: Record<string, unknown>;
  info?: GraphQLResolveInfo;
  complete?: (value: unknown) => unknown;
}

interface NodePlan {
  type: GraphQLObjectType;
  fields: FieldStep[];
  connections: { iterate: BulkIterator; args: Record<string, unknown>; plan: NodePlan }[];
  id: GraphQLFieldResolver<unknown, EmulatorContext> | undefined;
}

export class BulkManager {
  private readonly operations = new Map<string, BulkOperationRecord>();
  private readonly files = new Map<string, string>();
  private latest: BulkOperationRecord | undefined;
  private counter = 0;
  private dir: string | undefined;
  private running = 0;
  private closed = false;
  baseUrl = '';

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly context: () => EmulatorContext,
  ) {}

  get(id: string): BulkOperationRecord | undefined {
    return this.operations.get(id);
  }

  current(): BulkOperationRecord | undefined {
    return this.latest;
  }

  /** Path of a completed operation's JSONL, by its number (as in the URL). */
  filePath(number: string): string | undefined {
    return this.files.get(number);
  }

  start(query: string, _groupObjects: boolean): { bulkOperation: BulkOperationRecord | null; userErrors: UserError[] } {
    const checked = checkBulkQuery(this.schema, query);
    if ('errors' in checked) return { bulkOperation: null, userErrors: checked.errors.map((message) => ({ code: 'INVALID', field: ['query'], message })) };
    if (this.running >= MAX_RUNNING) {
      return { bulkOperation: null, userErrors: [{ code: 'LIMIT_REACHED', field: null, message: 'Bulk operations limit reached. Please try again later.' }] };
    }
    const number = String(++this.counter);
    const operation: BulkOperationRecord = {
      id: `gid://shopify/BulkOperation/${number}`,
      status: 'CREATED',
      type: 'QUERY',
      query,
      createdAt: new Date().toISOString(),
      completedAt: null,
      objectCount: 0,
      rootObjectCount: 0,
      fileSize: null,
      url: null,
      partialDataUrl: null,
      errorCode: null,
    };
    this.operations.set(operation.id, operation);
    this.latest = operation;
    this.running++;
    setImmediate(() => {
      void this.run(number, operation, checked.document).finally(() => this.running--);
    });
    return { bulkOperation: operation, userErrors: [] };
  }

  /** Scopes the query's root fields need that the app lacks (the operation then fails with ACCESS_DENIED, as on Shopify). */
  private missingScope(document: DocumentNode): boolean {
    const context = this.context();
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    return fieldsOf(this.schema.getQueryType()!, operation.selectionSet, fragmentsOf(document)).some((field) => {
      const scope = REQUIRED_SCOPES[`QueryRoot.${field.name.value}`];
      return scope !== undefined && !hasScope(context.scopes, scope);
    });
  }

  /**
   * Compiles what to read for one node type once, so a million nodes cost a million plain loops,
   * not a million walks over the query's AST.
   */
  private compile(type: GraphQLObjectType, sets: SelectionSetNode[], fragments: Record<string, FragmentDefinitionNode>, nested: boolean): NodePlan {
    const plan: NodePlan = { type, fields: [], connections: [], id: type.getFields()['id']?.resolve };
    for (const set of sets) {
      for (const field of fieldsOf(type, set, fragments)) {
        const key = field.alias?.value ?? field.name.value;
        if (field.name.value === '__typename') {
          plan.fields.push({ key, constant: type.name });
          continue;
        }
        const definition = type.getFields()[field.name.value]!;
        const args = getArgumentValues(definition, field, {});
        const named = getNamedType(definition.type);
        if (isConnectionType(named)) {
          if (nested) throw new Error(`bulk operations walk connections of connection nodes only, not ${type.name}.${field.name.value} inside a plain object`);
          const iterate = bulkIterators[`${type.name}.${field.name.value}`];
          if (!iterate) throw new Error(`bulk operations cannot walk ${type.name}.${field.name.value}`);
          const nodeType = getNamedType((named as GraphQLObjectType).getFields()['nodes']!.type) as GraphQLObjectType;
          plan.connections.push({ iterate, args, plan: this.compile(nodeType, nodeSelections(field, fragments), fragments, false) });
          continue;
        }
        const info = { fieldName: field.name.value, fieldNodes: [field], variableValues: {}, schema: this.schema } as unknown as GraphQLResolveInfo;
        plan.fields.push({ key, resolve: definition.resolve ?? defaultFieldResolver, args, info, complete: this.completer(definition.type, field, fragments) });
      }
    }
    return plan;
  }

  private completer(type: GraphQLOutputType, field: FieldNode, fragments: Record<string, FragmentDefinitionNode>): (value: unknown) => unknown {
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      const inner = this.completer(nullable.ofType, field, fragments);
      return (value) => (value === null || value === undefined ? null : (value as unknown[]).map(inner));
    }
    if (isLeafType(nullable)) return (value) => (value === null || value === undefined ? null : nullable.serialize(value));
    if (!isObjectType(nullable)) throw new Error(`bulk operations cannot read abstract type ${String(nullable)}`);
    const plan = this.compile(nullable, field.selectionSet ? [field.selectionSet] : [], fragments, true);
    return (value) => (value === null || value === undefined ? null : this.line(plan, value));
  }

  /** The JSONL object of one node (nested connections are not in it: they become lines of their own). */
  private line(plan: NodePlan, source: unknown): Record<string, unknown> {
    const context = this.context();
    const out: Record<string, unknown> = {};
    for (const field of plan.fields) {
      out[field.key] = field.constant ?? field.complete!(field.resolve!(source, field.args!, context, field.info!));
    }
    return out;
  }

  private idOf(plan: NodePlan, source: unknown): string {
    return plan.id ? String(plan.id(source, {}, this.context(), {} as GraphQLResolveInfo)) : '';
  }

  private directory(): string {
    this.dir ??= mkdtempSync(join(tmpdir(), 'invrecon-emulator-'));
    return this.dir;
  }

  private async run(number: string, operation: BulkOperationRecord, document: DocumentNode): Promise<void> {
    const path = join(this.directory(), `bulk-${number}.jsonl`);
    const sink = new LineSink(createWriteStream(path));
    const fragments = fragmentsOf(document);
    const query = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    const root = this.schema.getQueryType()!;
    const deferred: string[] = [];
    let childNumber = 0;
    let sinceYield = 0;
    operation.status = 'RUNNING';
    if (this.missingScope(document)) {
      await sink.close().catch(() => undefined);
      operation.status = 'FAILED';
      operation.errorCode = 'ACCESS_DENIED';
      operation.completedAt = new Date().toISOString();
      return;
    }
    try {
      const context = this.context();
      // A held-back line holds back its own children too, so every child still follows its parent.
      const writeChildren = async (plan: NodePlan, parent: unknown, holding: boolean): Promise<void> => {
        if (plan.connections.length === 0) return;
        const parentId = this.idOf(plan, parent);
        for (const connection of plan.connections) {
          for (const node of connection.iterate(parent, connection.args, context)) {
            const line = this.line(connection.plan, node);
            line['__parentId'] = parentId;
            const text = JSON.stringify(line);
            operation.objectCount++;
            const hold = holding || ++childNumber % DEFER_EVERY === 1;
            if (hold) deferred.push(text);
            else await sink.write(text);
            await writeChildren(connection.plan, node, hold);
          }
        }
      };
      for (const field of fieldsOf(root, query.selectionSet, fragments)) {
        if (this.closed) break;
        const definition = root.getFields()[field.name.value]!;
        const args = getArgumentValues(definition, field, {});
        const named = getNamedType(definition.type);
        let roots: Iterable<unknown>;
        let plan: NodePlan;
        if (isConnectionType(named)) {
          roots = bulkIterators[`QueryRoot.${field.name.value}`]!(undefined, args, context);
          const nodeType = getNamedType((named as GraphQLObjectType).getFields()['nodes']!.type) as GraphQLObjectType;
          plan = this.compile(nodeType, nodeSelections(field, fragments), fragments, false);
        } else {
          // A single object at the root (e.g. location(id:)) whose connections are walked.
          const resolve = definition.resolve ?? defaultFieldResolver;
          const value = resolve(undefined, args, context, {} as GraphQLResolveInfo);
          roots = value === null || value === undefined ? [] : [value];
          plan = this.compile(named as GraphQLObjectType, field.selectionSet ? [field.selectionSet] : [], fragments, false);
        }
        for (const node of roots) {
          if (this.closed) break;
          await sink.write(JSON.stringify(this.line(plan, node)));
          operation.objectCount++;
          operation.rootObjectCount++;
          // Children held back from earlier parents land here, after a later parent.
          for (const text of deferred.splice(0)) await sink.write(text);
          await writeChildren(plan, node, false);
          if (++sinceYield >= 500) {
            sinceYield = 0;
            await yieldToEventLoop();
          }
        }
      }
      for (const text of deferred.splice(0)) await sink.write(text);
      await sink.close();
      if (this.closed) return;
      this.files.set(number, path);
      operation.fileSize = statSync(path).size;
      operation.url = operation.objectCount > 0 ? `${this.baseUrl}/_emulator/bulk/${number}.jsonl` : null;
      operation.completedAt = new Date().toISOString();
      operation.status = 'COMPLETED';
    } catch (error) {
      await sink.close().catch(() => undefined);
      operation.status = 'FAILED';
      operation.errorCode = 'INTERNAL_SERVER_ERROR';
      operation.completedAt = new Date().toISOString();
      process.stderr.write(`emulator: bulk operation ${operation.id} failed: ${(error as Error).stack ?? String(error)}\n`);
    }
  }

  close(): void {
    this.closed = true;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
