/**
 * Apollo plugin: rejects operations over the depth/cost limits (HTTP 400, QUERY_TOO_COMPLEX) and
 * text arguments holding U+0000 (HTTP 400, BAD_USER_INPUT) before they run, and records request counts and latency by operation — labelled by operation
 * type and root fields (see operation-label.ts), never by the client's operation name.
 */
import type { ApolloDriverConfig } from '@nestjs/apollo';
import type { ApiMetrics } from '../api-metrics';
import { queryTooComplex } from './errors';
import { operationLabels } from './operation-label';
import { findNulText, nulTextError } from './nul-text';
import { checkQueryLimits, measureOperation, type QueryLimits } from './query-limits';

/** The plugin type as the Nest Apollo driver sees it (one copy of @apollo/server's types). */
export type ApolloPlugin = NonNullable<ApolloDriverConfig['plugins']>[number];

export function operationsPlugin(metrics: ApiMetrics, limits: QueryLimits): ApolloPlugin {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async didResolveOperation(ctx) {
          const nul = findNulText(ctx.document, ctx.request.variables);
          if (nul !== null) throw nulTextError(nul, 400);
          const cost = measureOperation(ctx.schema, ctx.document, ctx.operationName, ctx.request.variables, limits.defaultPageSize, limits.maxPageSize);
          const problem = checkQueryLimits(cost, limits);
          // Without a status, Apollo answers an error raised here with HTTP 500.
          if (problem) throw queryTooComplex(problem, 400);
        },
        async willSendResponse(ctx) {
          const { operation, type } = operationLabels(ctx.schema, ctx.document, ctx.request.operationName, ctx.operation);
          const body = ctx.response.body;
          const failed = body.kind === 'single' && (body.singleResult.errors?.length ?? 0) > 0;
          metrics.requests.inc({ operation, type, outcome: failed ? 'error' : 'ok' });
          metrics.requestSeconds.observe({ operation, type }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
}
