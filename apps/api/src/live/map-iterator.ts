/**
 * An async iterator over `source`'s values mapped by `map`, for handing live subscriptions to
 * graphql-ws: return() and throw() close the source, and so does a failing `map`. When the source
 * can hand over every value already waiting at once (`nextBatch`, as LiveSubscription does), so
 * can the mapped iterator: one promise per batch instead of one per value.
 */
export interface IteratorSource<S> {
  next(): Promise<IteratorResult<S>>;
  nextBatch?(max: number): Promise<IteratorResult<S[]>>;
  return?(): Promise<unknown>;
}

export interface BatchableIterator<T> extends AsyncIterableIterator<T> {
  nextBatch?(max: number): Promise<IteratorResult<T[]>>;
}

export function mapIterator<S, T>(source: IteratorSource<S>, map: (value: S) => T | Promise<T>): BatchableIterator<T> {
  const close = async () => {
    try {
      await source.return?.();
    } catch {
      // keep the original error, if any
    }
  };
  const mapped: BatchableIterator<T> = {
    [Symbol.asyncIterator]: () => mapped,
    next: async () => {
      const r = await source.next();
      if (r.done) return { value: undefined, done: true };
      try {
        return { value: await map(r.value), done: false };
      } catch (error) {
        await close();
        throw error;
      }
    },
    ...(source.nextBatch
      ? {
          nextBatch: async (max: number): Promise<IteratorResult<T[]>> => {
            const r = await source.nextBatch!(max);
            if (r.done) return { value: undefined, done: true };
            const values: T[] = [];
            try {
              for (const value of r.value) {
                const m = map(value);
                values.push(m instanceof Promise ? await m : m);
              }
            } catch (error) {
              await close();
              throw error;
            }
            return { value: values, done: false };
          },
        }
      : {}),
    return: async () => {
      await close();
      return { value: undefined, done: true };
    },
    throw: async (error?: unknown) => {
      await close();
      throw error;
    },
  };
  return mapped;
}
