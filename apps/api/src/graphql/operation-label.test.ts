import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { MAX_OPERATION_LABEL, operationLabels } from './operation-label';

const schema = buildSchema(`
  type Task { uuid: ID! }
  type Query { tasks: [Task!]! task(uuid: ID!): Task workers: [Task!]! stats: Int }
  type Subscription { events: Int }
`);

const label = (query: string, operationName?: string) => operationLabels(schema, parse(query), operationName);

describe('operation labels of the request metrics', () => {
  it('are the operation type and its sorted, distinct root fields, whatever the client names it', () => {
    expect(label('query MyDashboardPanel42 { tasks { uuid } }')).toEqual({ operation: 'query:tasks', type: 'query' });
    expect(label('{ workers { uuid } task(uuid: "x") { uuid } again: task(uuid: "y") { uuid } }')).toEqual({ operation: 'query:task,workers', type: 'query' });
    expect(label('subscription Live { events }')).toEqual({ operation: 'subscription:events', type: 'subscription' });
  });

  it('follow fragments and inline fragments, and name aliased fields by their field', () => {
    const q = 'query { ...A ... on Query { stats } mine: workers { uuid } } fragment A on Query { tasks { uuid } ...B } fragment B on Query { __typename ...A }';
    expect(label(q).operation).toBe('query:__typename,stats,tasks,workers');
  });

  it('pick the operation by name, or take the one resolved already', () => {
    const doc = 'query A { tasks { uuid } } query B { workers { uuid } }';
    expect(label(doc, 'B').operation).toBe('query:workers');
    const resolved = parse(doc).definitions[0] as OperationDefinitionNode;
    expect(operationLabels(schema, undefined, undefined, resolved).operation).toBe('query:tasks');
  });

  it('never carry text the schema does not define', () => {
    expect(label('{ nope { uuid } tasks { uuid } }').operation).toBe('query:tasks');
    expect(label('{ nope }').operation).toBe('query:unknown');
    expect(label('mutation { tasks }')).toEqual({ operation: 'mutation:unknown', type: 'mutation' });
    expect(label('query A { tasks { uuid } } query B { stats }')).toEqual({ operation: 'unknown', type: 'unknown' });
    expect(label('query A { tasks { uuid } }', 'Z')).toEqual({ operation: 'unknown', type: 'unknown' });
    expect(operationLabels(schema, undefined)).toEqual({ operation: 'unknown', type: 'unknown' });
  });

  it(`are cut after a whole field at ${MAX_OPERATION_LABEL} characters`, () => {
    const names = Array.from({ length: 30 }, (_, i) => `field${String(i).padStart(2, '0')}`);
    const wide = buildSchema(`type Query { ${names.map((n) => `${n}: Int`).join(' ')} }`);
    const { operation } = operationLabels(wide, parse(`{ ${names.join(' ')} }`));
    expect(operation.length).toBeLessThanOrEqual(MAX_OPERATION_LABEL);
    expect(operation).toMatch(/^query:field00,field01,(field\d\d,)*field\d\d…$/);
  });
});
