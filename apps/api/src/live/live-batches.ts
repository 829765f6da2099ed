/**
 * The batched subscriptions (eventBatches, taskUpdateBatches, workerUpdateBatches): the same
 * LiveSubscription, handed to the client as lists of whatever is waiting — a page of the tail or
 * of the catch-up read — instead of one item per message. One WebSocket message and one
 * execution of the client's selection then carry up to `maxBatchSize` items, which is what lets a
 * client follow thousands of events per second.
 */
import { badUserInput } from '../graphql/errors';
import type { LiveSubscription } from './live-subscription';
import { mapIterator } from './map-iterator';

export const DEFAULT_MAX_BATCH_SIZE = 500;
export const MAX_BATCH_SIZE_LIMIT = 5000;

/** `maxBatchSize`: an integer in 1..MAX_BATCH_SIZE_LIMIT (default DEFAULT_MAX_BATCH_SIZE). */
export function validateMaxBatchSize(value: number | null | undefined): number {
  if (value === null || value === undefined) return DEFAULT_MAX_BATCH_SIZE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_BATCH_SIZE_LIMIT) {
    throw badUserInput(`maxBatchSize must be an integer from 1 to ${MAX_BATCH_SIZE_LIMIT}, got ${value}`, 'maxBatchSize');
  }
  return value;
}

/**
 * An async iterator of batches over `subscription`: each batch holds at least one item and at most
 * `max`, in position order; `wrap` builds the GraphQL value from the items and the position of the
 * last one (the client's resume point).
 */
export function batchesOf<T, B>(
  subscription: LiveSubscription<T>,
  max: number,
  positionOf: (item: T) => number,
  wrap: (items: T[], lastPosition: number) => B,
): AsyncIterableIterator<B> {
  return mapIterator({ next: () => subscription.nextBatch(max), return: () => subscription.return() }, (items) =>
    sharedBatch(items, positionOf(items[items.length - 1]!), wrap),
  );
}

/** Batches by their first item: subscribers in step get the same batch object (see shared-execution.ts). */
const batches = new WeakMap<object, Array<{ items: readonly unknown[]; batch: unknown }>>();

/**
 * The batch of exactly these items: the object made for an earlier subscriber when it holds the
 * same items (compared one by one), else a new one. Items are the tail's shared objects, so
 * subscribers that took the same page get one batch, which GraphQL then executes once.
 */
function sharedBatch<T, B>(items: T[], lastPosition: number, wrap: (items: T[], lastPosition: number) => B): B {
  const first = items[0];
  if (first === null || typeof first !== 'object') return wrap(items, lastPosition);
  let candidates = batches.get(first);
  if (!candidates) batches.set(first, (candidates = []));
  for (const c of candidates) {
    if (c.items.length === items.length && c.items.every((item, i) => item === items[i])) return c.batch as B;
  }
  const batch = wrap(items, lastPosition);
  if (candidates.length < 16) candidates.push({ items, batch });
  return batch;
}
