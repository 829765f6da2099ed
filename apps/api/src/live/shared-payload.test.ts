/**
 * nextPrefix + nextPayload: byte for byte the `next` message graphql-ws writes for the same result,
 * whatever the id and the result (data, errors, extensions); one payload buffer per result.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { nextPayload, nextPrefix } from './shared-payload';

/** What graphql-ws sends for a `next` (its server: errors as toJSON, omitted when absent). */
function graphqlWsNext(id: string, result: ExecutionResult): string {
  const { errors, ...rest } = result;
  return stringifyMessage({ id, type: MessageType.Next, payload: { ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) } });
}

describe('nextPrefix + nextPayload', () => {
  const results: ExecutionResult[] = [
    { data: { events: { position: 7, payload: { hostname: 'celery@w1', note: 'naïve “quotes” \\ and \u0000' } } } },
    { data: null, errors: [new GraphQLError('boom', { path: ['events'], extensions: { code: 'SUBSCRIBER_TOO_SLOW' } })] },
    { data: { events: null }, extensions: { cost: 3 } },
  ];
  const ids = ['1', 'a5b9c3e0-0a1f-4c2e-9d3b-6f0f2b1c7e11', 'with "quotes" and \\ backslash', 'ünïcödé'];

  it('writes exactly what graphql-ws would have sent', () => {
    for (const id of ids) {
      for (const result of results) {
        expect(Buffer.concat([nextPrefix(id), nextPayload(result)]).toString('utf8')).toBe(graphqlWsNext(id, result));
      }
    }
  });

  it('makes one payload buffer per result object', () => {
    expect(nextPayload(results[0]!)).toBe(nextPayload(results[0]!));
    expect(nextPayload({ ...results[0]! })).not.toBe(nextPayload(results[0]!));
  });
});
