import { buildSchema, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ApiMetrics } from '../api-metrics';
import { SubscriptionLimits } from './subscription-limits';

const schema = buildSchema(`
  type Query { ok: Int }
  type C { d: Int, a: A }
  type B { c: C }
  type A { b: B, list: [B] }
  type Subscription { a: A, s(text: String, list: [String!]): Int }
`);

const refused = (r: unknown) => (Array.isArray(r) ? (r as GraphQLError[]).map((e) => ({ code: e.extensions.code, message: e.message })) : null);

describe('depth and cost limits for graphql-ws operations (onSubscribe)', () => {
  const limits = () => new SubscriptionLimits({ maxDepth: 4, maxComplexity: 30, defaultPageSize: 10 });

  it('refuses while the schema is not attached yet', () => {
    expect(refused(limits().onSubscribe(null, '1', { query: 'subscription { a { b { c { d } } } }' }))?.[0]?.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('accepts an operation within the limits: execution arguments with the parsed document', () => {
    const l = limits();
    l.attach(schema);
    const r = l.onSubscribe(null, '1', { query: 'subscription S { a { b { c { d } } } } subscription T { a { b { c { d } } } }', operationName: 'S', variables: { x: 1 } });
    expect(refused(r)).toBeNull();
    expect(r).toMatchObject({ schema, operationName: 'S', variableValues: { x: 1 } });
  });

  it('refuses too deep or too costly operations with QUERY_TOO_COMPLEX', () => {
    const l = limits();
    l.attach(schema);
    const deep = refused(l.onSubscribe(null, '1', { query: 'subscription { a { b { c { a { b { c { d } } } } } } }' }));
    expect(deep).toEqual([{ code: 'QUERY_TOO_COMPLEX', message: expect.stringContaining('query depth 7 exceeds the limit of 4') }]);
    const costly = refused(l.onSubscribe(null, '1', { query: 'subscription { a { list { c { d } } } }' }));
    expect(costly).toEqual([{ code: 'QUERY_TOO_COMPLEX', message: expect.stringContaining('query cost 42 exceeds the limit of 30') }]);
  });

  it('refuses text arguments holding NUL (U+0000) with BAD_USER_INPUT naming where', () => {
    const l = limits();
    l.attach(schema);
    expect(refused(l.onSubscribe(null, '1', { query: 'subscription { s(text: "a\\u0000") }' }))).toEqual([
      { code: 'BAD_USER_INPUT', message: 'text arguments must not contain NUL characters (U+0000): found in a string literal of the operation' },
    ]);
    expect(refused(l.onSubscribe(null, '1', { query: 'subscription ($l: [String!]) { s(list: $l) }', variables: { l: ['ok', 'x\u0000'] } }))).toEqual([
      { code: 'BAD_USER_INPUT', message: 'text arguments must not contain NUL characters (U+0000): found in variable $l[1]' },
    ]);
    expect(refused(l.onSubscribe(null, '1', { query: 'subscription ($l: [String!]) { s(list: $l) }', variables: { l: ['ok'] } }))).toBeNull();
  });

  it('returns syntax and validation errors instead of closing the socket', () => {
    const l = limits();
    l.attach(schema);
    expect(refused(l.onSubscribe(null, '1', { query: 'subscription {' }))?.[0]?.message).toMatch(/Syntax Error/);
    expect(refused(l.onSubscribe(null, '1', { query: 'subscription { a { nope } }' }))?.[0]?.message).toMatch(/nope/);
  });

  it('counts operations by type and root fields, never by the client-chosen operation name', async () => {
    const metrics = new ApiMetrics();
    const l = new SubscriptionLimits({ maxDepth: 4, maxComplexity: 30, defaultPageSize: 10 }, metrics);
    l.attach(schema);
    l.onSubscribe(null, '1', { query: 'subscription Panel1 { a { b { c { d } } } }', operationName: 'Panel1' });
    l.onSubscribe(null, '2', { query: 'subscription Panel2 { a { b { c { d } } } }' });
    l.onSubscribe(null, '3', { query: 'subscription Deep { a { b { c { a { b { c { d } } } } } } }' });
    l.onSubscribe(null, '4', { query: 'subscription {' });
    const samples = (await metrics.requests.get()).values.map((v) => ({ ...v.labels, value: v.value }));
    expect(samples).toEqual([
      { operation: 'subscription:a', type: 'subscription', outcome: 'ok', value: 2 },
      { operation: 'subscription:a', type: 'subscription', outcome: 'error', value: 1 },
      { operation: 'unknown', type: 'unknown', outcome: 'error', value: 1 },
    ]);
  });
});
