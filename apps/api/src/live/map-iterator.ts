/**
 * An async iterator over `source`'s values mapped by `map`, for handing live subscriptions to
 * graphql-ws: return() and throw() close the source, and so does a failing `map`.
 */
export interface IteratorSource<S> {
  next(): Promise<IteratorResult<S>>;
  return?(): Promise<unknown>;
}

export function mapIterator<S, T>(source: IteratorSource<S>, map: (value: S) => T | Promise<T>): AsyncIterableIterator<T> {
  const close = async () => {
    try {
      await source.return?.();
    } catch {
      // keep the original error, if any
    }
  };
  const mapped: AsyncIterableIterator<T> = {
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
