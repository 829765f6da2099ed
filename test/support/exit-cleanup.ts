/**
 * Runs `cleanup` when the test process exits or is told to stop (SIGINT, SIGTERM, SIGHUP), so no
 * child process it started outlives it. After a signal the default behaviour (terminate) is kept
 * unless somebody else handles that signal.
 */
export function onProcessExit(cleanup: () => void): void {
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanup();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
