/**
 * sharedSubscribe: one execution per (payload, operation) whoever subscribes; different
 * documents or variables execute separately; the source is closed when the client leaves.
 */
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { sharedSubscribe } from './shared-execution';

interface Item {
  n: number;
}

function harness(items: Item[]) {
  let resolved = 0;
  let closed = 0;
  const source = (): AsyncIterableIterator<Item> => {
    let i = 0;
    const it: AsyncIterableIterator<Item> = {
      [Symbol.asyncIterator]: () => it,
      next: async () => (i < items.length ? { value: items[i++]!, done: false } : { value: undefined, done: true }),
      return: async () => ((closed += 1), { value: undefined, done: true }),
    };
    return it;
  };
  const Tick = new GraphQLObjectType({
    name: 'Tick',
    fields: {
      n: { type: new GraphQLNonNull(GraphQLInt), resolve: (item: Item) => ((resolved += 1), item.n) },
      label: { type: GraphQLString, args: { prefix: { type: GraphQLString } }, resolve: (item: Item, a: { prefix?: string }) => `${a.prefix ?? ''}${item.n}` },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: { ticks: { type: new GraphQLNonNull(Tick), subscribe: source, resolve: (item: Item) => item } },
    }),
  });
  const run = async (query: string, variableValues?: Record<string, unknown>) => {
    const stream = (await sharedSubscribe({ schema, document: parse(query), variableValues })) as AsyncIterableIterator<ExecutionResult>;
    const out: ExecutionResult[] = [];
    for await (const r of stream) out.push(r);
    return out;
  };
  return { run, source, schema, resolvedCount: () => resolved, closedCount: () => closed };
}

describe('sharedSubscribe', () => {
  it('executes once per payload and operation for any number of subscribers, with the results graphql-js gives', async () => {
    const items = [{ n: 1 }, { n: 2 }, { n: 3 }];
    const h = harness(items);
    const a = await h.run('subscription { ticks { n } }');
    const b = await h.run('subscription { ticks { n } }');
    expect(a.map((r) => r.data)).toEqual([{ ticks: { n: 1 } }, { ticks: { n: 2 } }, { ticks: { n: 3 } }]);
    expect(b).toEqual(a);
    expect(b[0]).toBe(a[0]); // the very same result object
    expect(h.resolvedCount()).toBe(3);
  });

  it('executes separately for another document or other variables', async () => {
    const h = harness([{ n: 7 }]);
    const query = 'subscription($p: String) { ticks { n label(prefix: $p) } }';
    const x = await h.run(query, { p: 'x' });
    const y = await h.run(query, { p: 'y' });
    const other = await h.run('subscription { ticks { label } }');
    expect(x[0]!.data).toEqual({ ticks: { n: 7, label: 'x7' } });
    expect(y[0]!.data).toEqual({ ticks: { n: 7, label: 'y7' } });
    expect(other[0]!.data).toEqual({ ticks: { label: '7' } });
    expect(h.resolvedCount()).toBe(2);
  });

  it('returns validation-free errors of the operation as a result, and closes the source on return()', async () => {
    const h = harness([{ n: 1 }, { n: 2 }]);
    const unknownOp = await sharedSubscribe({ schema: h.schema, document: parse('subscription A { ticks { n } }'), operationName: 'B' });
    expect('errors' in unknownOp && unknownOp.errors?.[0]?.message).toMatch(/Unknown operation named "B"/);
    const stream = (await sharedSubscribe({ schema: h.schema, document: parse('subscription { ticks { n } }') })) as AsyncIterableIterator<ExecutionResult>;
    expect((await stream.next()).value.data).toEqual({ ticks: { n: 1 } });
    await stream.return!();
    expect(h.closedCount()).toBe(1);
  });
});
