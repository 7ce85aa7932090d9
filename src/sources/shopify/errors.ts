import { SourceError } from '../../errors.js';
import { redactSecrets } from '../../secrets.js';

export interface GraphQLErrorShape {
  message?: string;
  extensions?: { code?: string; [key: string]: unknown };
  path?: unknown[];
}

/** Top-level GraphQL errors (other than THROTTLED): not retried, the codes let callers react. */
export class ShopifyGraphQLError extends SourceError {
  readonly operation: string;
  readonly codes: string[];
  /** The errors' `extensions` (for example MAX_COST_EXCEEDED carries `cost` and `maxCost`). */
  readonly extensions: Record<string, unknown>[];
  constructor(operation: string, errors: GraphQLErrorShape[]) {
    // Shopify's messages can run to several paragraphs: the first line says it.
    const messages = errors.map((e) => {
      const text = (e.message ?? 'error').split('\n')[0]!.trim();
      return e.extensions?.code ? `${text} (${e.extensions.code})` : text;
    });
    super(redactSecrets(`Shopify ${operation}: ${messages[0] ?? 'unknown error'}`), messages.slice(1).map(redactSecrets));
    this.operation = operation;
    this.codes = errors.map((e) => e.extensions?.code).filter((c): c is string => typeof c === 'string');
    this.extensions = errors.map((e) => e.extensions ?? {});
  }
}

/**
 * Every attempt of a request failed. `uncertain`: one of them may have reached Shopify (its answer was
 * lost), so a mutation may have been applied.
 */
export class ShopifyUnreachableError extends SourceError {
  constructor(
    message: string,
    readonly uncertain: boolean,
  ) {
    super(message);
  }
}
