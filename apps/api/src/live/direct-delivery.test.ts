/**
 * deliverDirectly: every result is delivered in order; the iterator graphql-ws sees ends when the
 * results end and fails with their error; return() stops the delivery and closes the results; a
 * backed-up delivery is waited for before the next result is taken.
 */
import type { ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { deliverDirectly } from './direct-delivery';

function source(items: number[], failWith?: Error) {
  let i = 0;
  let closed = 0;
  let pulled = 0;
  const it: AsyncIterator<ExecutionResult> = {
    next: async () => {
      pulled += 1;
      if (i < items.length) return { value: { data: { n: items[i++] } }, done: false };
      if (failWith) throw failWith;
      return new Promise(() => undefined); // a live stream: waits for more
    },
    return: async () => ((closed += 1), { value: undefined, done: true }),
  };
  return { it, closed: () => closed, pulled: () => pulled };
}

describe('deliverDirectly', () => {
  it('takes whatever waits in one step when the results can batch, and still waits when backed up', async () => {
    const batches = [[1, 2, 3], [4], [5, 6]];
    const asked: number[] = [];
    const results = {
      next: async () => new Promise<IteratorResult<ExecutionResult>>(() => undefined),
      nextBatch: async (max: number) => {
        asked.push(max);
        const batch = batches.shift();
        return batch ? { value: batch.map((n) => ({ data: { n } })), done: false as const } : new Promise<IteratorResult<ExecutionResult[]>>(() => undefined);
      },
      return: async () => ({ value: undefined, done: true as const }),
    };
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const got: unknown[] = [];
    deliverDirectly(results, (r) => {
      got.push(r.data);
      return got.length === 2 ? blocked : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(asked).toHaveLength(1);
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(got.map((d) => (d as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(asked.every((max) => max > 1)).toBe(true);
  });

  it('delivers every result in order and yields nothing itself', async () => {
    const s = source([1, 2, 3]);
    const got: unknown[] = [];
    const seen = deliverDirectly(s.it, (r) => (got.push(r.data), undefined));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await expect(seen.return!()).resolves.toEqual({ value: undefined, done: true });
    expect(s.closed()).toBe(1);
  });

  it('ends when the results end, and fails with their error', async () => {
    const ended: AsyncIterator<ExecutionResult> = { next: async () => ({ value: undefined, done: true }) };
    await expect(deliverDirectly(ended, () => undefined).next()).resolves.toEqual({ value: undefined, done: true });
    const s = source([1], new Error('subscriber too slow'));
    const got: unknown[] = [];
    await expect(deliverDirectly(s.it, (r) => (got.push(r.data), undefined)).next()).rejects.toThrow('subscriber too slow');
    expect(got).toEqual([{ n: 1 }]);
  });

  it('ends the results when a delivery fails (the client vanished mid-send), and fails with that error', async () => {
    const src = source([1, 2, 3]);
    const iterator = deliverDirectly(src.it, (r) => ((r.data as { n: number }).n === 2 ? Promise.reject(new Error('write ECONNRESET')) : undefined));
    await expect(iterator.next()).rejects.toThrow('write ECONNRESET');
    expect(src.closed()).toBe(1); // graphql-ws calls no return() after an error: the tail must not keep it
  });

  it('waits for a backed-up delivery before taking the next result', async () => {
    const s = source([1, 2, 3]);
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const got: unknown[] = [];
    deliverDirectly(s.it, (r) => {
      got.push(r.data);
      return got.length === 1 ? blocked : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(got).toEqual([{ n: 1 }]);
    expect(s.pulled()).toBe(1);
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});
