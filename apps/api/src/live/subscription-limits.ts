/**
 * Depth and cost limits for operations over WebSocket (graphql-ws), which never pass through the
 * Apollo HTTP plugin: graphql-ws's `onSubscribe` hook (reachable through Nest's
 * `subscriptions: { 'graphql-ws': { onSubscribe } }`) parses, validates and measures each
 * operation with the same query-limits as HTTP, and refuses one over a limit with
 * QUERY_TOO_COMPLEX before any resolver runs.
 *
 * The hook needs the schema, which Nest builds after the module options are read: LiveModule
 * attaches it at bootstrap, before the server listens.
 */
import { GraphQLError, parse, validate, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { ApiMetrics } from '../api-metrics';
import { queryTooComplex } from '../graphql/errors';
import { operationLabels, UNKNOWN_OPERATION, type OperationLabels } from '../graphql/operation-label';
import { checkQueryLimits, measureOperation, type QueryLimits } from '../graphql/query-limits';
import { findNulText, nulTextError } from '../graphql/nul-text';

export interface WsSubscribePayload {
  readonly operationName?: string | null;
  readonly query: string;
  readonly variables?: Record<string, unknown> | null;
}

export class SubscriptionLimits {
  private schema: GraphQLSchema | null = null;

  constructor(
    private readonly limits: QueryLimits,
    private readonly metrics?: ApiMetrics,
  ) {}

  attach(schema: GraphQLSchema): void {
    this.schema = schema;
  }

  /** graphql-ws `onSubscribe`: execution arguments for an acceptable operation, else its errors. */
  readonly onSubscribe = (_ctx: unknown, _id: string, payload: WsSubscribePayload): ExecutionArgs | readonly GraphQLError[] => {
    // Counted by operation type and root fields, as over HTTP (never by the client's operation name).
    let labels: OperationLabels = { operation: UNKNOWN_OPERATION, type: UNKNOWN_OPERATION };
    const refuse = (errors: readonly GraphQLError[]) => {
      this.metrics?.requests.inc({ ...labels, outcome: 'error' });
      return errors;
    };
    const schema = this.schema;
    if (schema === null) return refuse([new GraphQLError('the API is still starting: try again in a moment', { extensions: { code: 'SERVICE_UNAVAILABLE' } })]);
    let document: DocumentNode;
    try {
      document = parse(payload.query);
    } catch (error) {
      return refuse([error instanceof GraphQLError ? error : new GraphQLError(String(error), { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    }
    labels = operationLabels(schema, document, payload.operationName);
    const invalid = validate(schema, document);
    if (invalid.length > 0) return refuse(invalid);
    const nul = findNulText(document, payload.variables);
    if (nul !== null) return refuse([nulTextError(nul)]);
    const cost = measureOperation(schema, document, payload.operationName, payload.variables ?? undefined, this.limits.defaultPageSize, this.limits.maxPageSize);
    const problem = checkQueryLimits(cost, this.limits);
    if (problem) return refuse([queryTooComplex(problem)]);
    this.metrics?.requests.inc({ ...labels, outcome: 'ok' });
    return { schema, document, operationName: payload.operationName, variableValues: payload.variables ?? undefined };
  };
}
