/** Polling helper for integration tests. */

export interface WaitForOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between probes (default 100 ms). */
  intervalMs?: number;
  /** What is being waited for; named in the timeout error. */
  description: string;
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json.length > 2000 ? `${json.slice(0, 2000)}…` : json;
  } catch {
    // fall through (cycles, BigInt)
  }
  return String(value);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns something other than `undefined` or `false`, and returns that.
 * A probe that throws counts as "not yet". On timeout, throws an Error naming `description` and
 * the last value returned or error thrown.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let last: { kind: 'none' } | { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } = {
    kind: 'none',
  };
  for (;;) {
    attempts += 1;
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = { kind: 'value', value };
    } catch (error) {
      last = { kind: 'error', error };
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await sleep(Math.min(intervalMs, remaining));
  }
  const lastSeen =
    last.kind === 'error'
      ? `last error: ${describe(last.error)}`
      : last.kind === 'value'
        ? `last value: ${describe(last.value)}`
        : 'probe never completed';
  const error = new Error(
    `timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${options.description}; ${lastSeen}`,
  );
  if (last.kind === 'error') (error as Error & { cause?: unknown }).cause = last.error;
  throw error;
}
