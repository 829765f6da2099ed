import { describe, expect, it } from 'vitest';
import { waitAtMost } from './sleep';

describe('waitAtMost', () => {
  it('gives the value of a promise that resolves in time', async () => {
    expect(await waitAtMost(Promise.resolve(7), 1000)).toEqual({ settled: true, value: 7 });
  });

  it('gives up on one that does not, and a later rejection of it goes nowhere', async () => {
    let reject: (e: Error) => void = () => undefined;
    const late = new Promise<number>((_, r) => (reject = r));
    expect(await waitAtMost(late, 10)).toEqual({ settled: false });
    reject(new Error('too late')); // would be an unhandled rejection (a crash) if it were not caught
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('rejects with the error of a promise that rejects in time', async () => {
    await expect(waitAtMost(Promise.reject(new Error('no')), 1000)).rejects.toThrow('no');
  });
});
