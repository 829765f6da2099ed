/**
 * GraphqlWsServer on a real HTTP server with a graphql-ws client: several subscribers of one
 * operation and several subscriptions on one connection each get exactly their results (the
 * shared payload text and the stand-ins never cross ids), execution errors arrive as graphql-ws
 * sends them, and upgrades on another path are refused.
 *
 * The server side runs from the build (dist/, CommonJS) with CommonJS graphql: graphql-ws loads
 * graphql through Node, and one graphql realm must build, validate and execute the schema.
 */
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../../../../libs/logging/src/logger';

const requireCjs = createRequire(__filename);
const { GraphQLError, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse } = requireCjs('graphql') as typeof import('graphql');
const { GraphqlWsServer } = requireCjs('../../../../dist/apps/api/src/live/graphql-ws-server.js') as typeof import('./graphql-ws-server');
const { sharedSubscribe } = requireCjs('../../../../dist/apps/api/src/live/shared-execution.js') as typeof import('./shared-execution');
const { SubscriptionLimits } = requireCjs('../../../../dist/apps/api/src/live/subscription-limits.js') as typeof import('./subscription-limits');

interface Item {
  n: number;
}

/** The same item objects for every subscriber, as the log tail hands them out. */
const ITEMS: Item[] = Array.from({ length: 30 }, (_, n) => ({ n }));

const Tick = new GraphQLObjectType({
  name: 'Tick',
  fields: {
    n: { type: new GraphQLNonNull(GraphQLInt) },
    label: { type: GraphQLString, args: { prefix: { type: GraphQLString } }, resolve: (item: Item, a: { prefix?: string }) => `${a.prefix ?? ''}${item.n}` },
    risky: {
      type: GraphQLString,
      resolve: (item: Item) => {
        if (item.n % 10 === 3) throw new GraphQLError(`tick ${item.n} is unlucky`, { extensions: { code: 'UNLUCKY' } });
        return 'ok';
      },
    },
  },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      ticks: {
        type: new GraphQLNonNull(Tick),
        subscribe: async function* () {
          for (const item of ITEMS) {
            yield item;
            if (item.n % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
          }
        },
        resolve: (item: Item) => item,
      },
    },
  }),
});

function collect(client: Client, query: string, variables?: Record<string, unknown>): Promise<ExecutionResult[]> {
  const results: ExecutionResult[] = [];
  return new Promise((resolve, reject) => {
    client.subscribe({ query, variables }, { next: (r) => results.push(r as ExecutionResult), error: reject, complete: () => resolve(results) });
  });
}

describe('GraphqlWsServer', () => {
  let http: Server | null = null;
  let ws: InstanceType<typeof GraphqlWsServer> | null = null;
  const clients: Client[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await ws?.close();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    http = null;
    ws = null;
  });

  async function start(): Promise<string> {
    http = createServer((_req, res) => res.writeHead(404).end());
    // The API's own onSubscribe (parse, validate, depth and cost limits) and subscribe.
    const limits = new SubscriptionLimits({ maxDepth: 10, maxComplexity: 10_000, defaultPageSize: 50, maxPageSize: 500 });
    limits.attach(schema);
    ws = new GraphqlWsServer({ path: '/graphql', logger: createLogger(process.env.DEBUG_WS ? 'debug' : 'silent', 'api'), engine: { schema, onSubscribe: limits.onSubscribe, subscribe: sharedSubscribe } });
    ws.attach(http);
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    return `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  function client(url: string): Client {
    const c = createClient({ url: `${url}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    clients.push(c);
    return c;
  }

  async function expected(query: string, variables?: Record<string, unknown>): Promise<unknown[]> {
    const stream = (await sharedSubscribe({ schema, document: parse(query), variableValues: variables })) as AsyncIterableIterator<ExecutionResult>;
    const out: unknown[] = [];
    for await (const r of stream) out.push(JSON.parse(JSON.stringify({ ...r, ...(r.errors ? { errors: r.errors.map((e) => e.toJSON()) } : {}) })));
    return out;
  }

  it('gives every subscriber and every subscription exactly its own results, errors included', async () => {
    const url = await start();
    const plain = 'subscription { ticks { n risky } }';
    const labelled = 'subscription L($p: String) { ticks { label(prefix: $p) } }';
    const [a, b, c] = [client(url), client(url), client(url)];
    const runs = await Promise.all([
      collect(a, plain),
      collect(b, plain),
      // Two subscriptions on one connection, interleaving their messages.
      collect(c, labelled, { p: 'x' }),
      collect(c, labelled, { p: 'y' }),
      collect(c, plain),
    ]);
    const [plainExpected, xExpected, yExpected] = await Promise.all([expected(plain), expected(labelled, { p: 'x' }), expected(labelled, { p: 'y' })]);
    expect(runs[0]).toEqual(plainExpected);
    expect(runs[1]).toEqual(plainExpected);
    expect(runs[2]).toEqual(xExpected);
    expect(runs[3]).toEqual(yExpected);
    expect(runs[4]).toEqual(plainExpected);
    expect(plainExpected).toHaveLength(ITEMS.length);
    expect(runs[0]![3]).toMatchObject({ data: { ticks: { n: 3, risky: null } }, errors: [{ message: 'tick 3 is unlucky', extensions: { code: 'UNLUCKY' } }] });
  });

  it('sends validation errors and completes as graphql-ws does', async () => {
    const url = await start();
    await expect(collect(client(url), 'subscription { ticks { nope } }')).rejects.toEqual([expect.objectContaining({ message: expect.stringContaining('Cannot query field "nope"') })]);
    // A client that completes early stops the delivery; the connection goes on serving.
    const c = client(url);
    const first = await new Promise<ExecutionResult>((resolve, reject) => {
      const stop = c.subscribe({ query: 'subscription { ticks { n } }' }, { next: (r) => (stop(), resolve(r as ExecutionResult)), error: reject, complete: () => undefined });
    });
    expect(first).toEqual({ data: { ticks: { n: 0 } } });
    expect(await collect(c, 'subscription { ticks { n } }')).toHaveLength(ITEMS.length);
  });

  it('answers an upgrade on another path with 404', async () => {
    const url = await start();
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${url}/elsewhere`, 'graphql-transport-ws');
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => reject(new Error('the upgrade was accepted')));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(404);
  });
  it('close() drops a client that does not answer the close frame after a short grace, instead of waiting for it', async () => {
    const url = await start();
    const socket = new WebSocket(`${url}/graphql`, 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => (socket.once('open', () => resolve()), socket.once('error', reject)));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.on('error', () => undefined);
    (socket as unknown as { _socket: { pause(): void } })._socket.pause(); // reads nothing: never answers the close frame
    await ws!.close(); // without the grace: ws's 30 s close timeout (the test's limit is 10 s)
    ws = null;
    (socket as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1001, 1006]).toContain(await closed); // its socket is gone (the close frame may still have been read)
  }, 10_000);
});

