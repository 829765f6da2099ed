/**
 * graphql-ws `subscribe` that executes a subscription's selection once per (event, operation)
 * instead of once per subscriber: the tail hands the same item objects (and, for subscribers in
 * step, the same batch objects) to every subscriber, so a result computed for one subscriber is
 * reused by every other subscriber with the same document, operation name and variables.
 *
 * graphql-js's own `subscribe` re-executes (and re-coerces the variables of) the operation for
 * every item and every subscriber; with 100 subscribers that was most of the API's CPU.
 * Execution depends only on the payload, the document and the variables here: no resolver
 * reads per-connection state (there is no per-user authorisation), so sharing is exact.
 */
import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { mapIterator } from './map-iterator';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Results by payload object, then by operation key; entries go when the payload is collected. */
const results = new WeakMap<object, Map<string, Result>>();

function operationKey(args: ExecutionArgs): string {
  return `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${print(args.document)}`;
}

function executeShared(args: ExecutionArgs, key: string, payload: unknown): Result {
  if (payload === null || typeof payload !== 'object') return execute({ ...args, rootValue: payload });
  let byKey = results.get(payload);
  if (!byKey) results.set(payload, (byKey = new Map()));
  let result = byKey.get(key);
  if (result === undefined) byKey.set(key, (result = execute({ ...args, rootValue: payload })));
  return result;
}

export async function sharedSubscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source as ExecutionResult;
  const key = operationKey(args);
  return mapIterator((source as AsyncIterable<unknown>)[Symbol.asyncIterator](), (payload) => executeShared(args, key, payload));
}
