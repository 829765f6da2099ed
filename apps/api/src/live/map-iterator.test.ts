/**
 * mapIterator: values mapped in order, one at a time or in batches when the source can batch; a
 * failing map closes the source; return() closes it.
 */
import { describe, expect, it } from 'vitest';
import { mapIterator, type IteratorSource } from './map-iterator';

function source(values: number[], batchable: boolean) {
  let closed = 0;
  const s: IteratorSource<number> = {
    next: async () => (values.length ? { value: values.shift()!, done: false } : { value: undefined, done: true }),
    ...(batchable ? { nextBatch: async (max: number) => (values.length ? { value: values.splice(0, max), done: false as const } : { value: undefined, done: true as const }) } : {}),
    return: async () => ((closed += 1), undefined),
  };
  return { s, closed: () => closed };
}

describe('mapIterator', () => {
  it('maps one value at a time, and offers nextBatch only when the source has it', async () => {
    const plain = mapIterator(source([1, 2], false).s, (n) => n * 10);
    expect(plain.nextBatch).toBeUndefined();
    expect(await plain.next()).toEqual({ value: 10, done: false });
    expect(await plain.next()).toEqual({ value: 20, done: false });
    expect(await plain.next()).toEqual({ value: undefined, done: true });
  });

  it('maps a batch in order, sync and async maps alike', async () => {
    const { s } = source([1, 2, 3, 4, 5], true);
    const mapped = mapIterator(s, (n) => (n % 2 ? n * 10 : Promise.resolve(n * 10)));
    expect(await mapped.nextBatch!(3)).toEqual({ value: [10, 20, 30], done: false });
    expect(await mapped.nextBatch!(3)).toEqual({ value: [40, 50], done: false });
    expect(await mapped.nextBatch!(3)).toEqual({ value: undefined, done: true });
  });

  it('closes the source when a map fails in a batch, and on return()', async () => {
    const failing = source([1, 2], true);
    const mapped = mapIterator(failing.s, (n) => {
      if (n === 2) throw new Error('cannot map 2');
      return n;
    });
    await expect(mapped.nextBatch!(5)).rejects.toThrow('cannot map 2');
    expect(failing.closed()).toBe(1);
    const other = source([1], true);
    await mapIterator(other.s, (n) => n).return!();
    expect(other.closed()).toBe(1);
  });
});
