import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkQueryLimits, LIST_GUESS, measureOperation } from './query-limits';

const schema = buildSchema(`
  type Event { position: Float! type: String! }
  type EventPage { events: [Event!]! hasMore: Boolean! }
  type Task { uuid: ID! name: String timeline: [Event!]! parent: Task }
  type TaskEdge { cursor: String! node: Task! }
  type PageInfo { hasNextPage: Boolean! }
  type TaskConnection { edges: [TaskEdge!]! pageInfo: PageInfo! }
  type Worker { hostname: ID! recentTasks(first: Int): [Task!]! }
  type Query {
    events(first: Int): EventPage!
    tasks(first: Int): TaskConnection!
    task(uuid: ID!): Task
    workers: [Worker!]!
  }
`);

const measure = (query: string, variables?: Record<string, unknown>) => measureOperation(schema, parse(query), undefined, variables, 50);

describe('query cost and depth', () => {
  it('counts a page once: first × the fields of one item', () => {
    // events(1) + hasMore(1) + 500 × (page list 1 + position 1 + type 1)
    expect(measure('{ events(first: 500) { hasMore events { position type } } }')).toEqual({ depth: 3, complexity: 1 + 500 * (1 + 1 + 2) });
    // tasks(1) + 10 × (edges 1 + cursor 1 + node 1 + uuid 1 + name 1) + pageInfo 2
    expect(measure('{ tasks(first: 10) { pageInfo { hasNextPage } edges { cursor node { uuid name } } } }').complexity).toBe(1 + 10 * (2 + 5));
  });

  it('uses variables and the default page size', () => {
    expect(measure('query ($n: Int) { events(first: $n) { events { type } } }', { n: 7 }).complexity).toBe(1 + 7 * 2);
    expect(measure('{ events { events { type } } }').complexity).toBe(1 + 50 * 2);
  });

  it('multiplies nested lists without `first` by a guess, and lists with `first` by it', () => {
    expect(measure('{ task(uuid: "x") { timeline { type } } }').complexity).toBe(1 + 1 + LIST_GUESS * 1);
    expect(measure('{ workers { recentTasks(first: 5) { uuid } } }').complexity).toBe(1 + LIST_GUESS * (1 + 5 * 1));
  });

  it('measures depth through fragments and ignores introspection', () => {
    const q = '{ task(uuid: "x") { ...T } __schema { types { fields { type { ofType { name } } } } } } fragment T on Task { parent { parent { parent { uuid } } } }';
    expect(measure(q).depth).toBe(5);
  });

  it('explains what to change when a limit is exceeded', () => {
    const limits = { maxDepth: 4, maxComplexity: 1000, defaultPageSize: 50 };
    expect(checkQueryLimits({ depth: 5, complexity: 10 }, limits)).toMatch(/^query depth 5 exceeds the limit of 4 \(CM_API_MAX_DEPTH\): select fewer nested levels/);
    expect(checkQueryLimits({ depth: 2, complexity: 5000 }, limits)).toMatch(/^query cost 5000 exceeds the limit of 1000 \(CM_API_MAX_COMPLEXITY\): .*lower `first`/);
    expect(checkQueryLimits({ depth: 4, complexity: 1000 }, limits)).toBeNull();
  });
});

describe('page sizes over the maximum', () => {
  it('are costed at the maximum, so argument validation can name the bad `first`', () => {
    const doc = parse('{ events(first: 100000) { events { type } } }');
    expect(measureOperation(schema, doc, undefined, undefined, 50, 500).complexity).toBe(1 + 500 * 2);
    expect(measureOperation(schema, doc, undefined, undefined, 50).complexity).toBe(1 + 100000 * 2);
  });
});
