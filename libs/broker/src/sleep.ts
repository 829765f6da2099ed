/** A sleep that `wake()` can cut short (used to stop promptly during reconnect backoff). */
export class InterruptibleSleep {
  private timer: NodeJS.Timeout | null = null;
  private resolve: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => this.wake(), ms);
      this.timer.unref();
    });
  }

  wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const resolve = this.resolve;
    this.resolve = null;
    resolve?.();
  }
}

/**
 * Waits for `promise` at most `ms`: `{ settled: true, value }` when it resolved in time,
 * `{ settled: false }` when the time ran out (it goes on, unobserved); rejects when it rejected
 * in time. The timer is cleared either way.
 */
export async function waitAtMost<T>(promise: Promise<T>, ms: number): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ settled: false }>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), ms);
  });
  const settled = promise.then((value) => ({ settled: true as const, value }));
  settled.catch(() => undefined); // a rejection after the time ran out is nobody's to handle
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
