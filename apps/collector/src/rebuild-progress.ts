/** A progress bar on a terminal; periodic log lines otherwise. */
import type { RebuildProgress } from '../../../libs/state/src';
import type { AppLogger } from '../../../libs/logging/src/logger';

export function rebuildProgressReporter(logger: AppLogger, stream: NodeJS.WriteStream = process.stderr): (p: RebuildProgress) => void {
  const started = Date.now();
  let lastDecile = -1;
  return ({ done, total }) => {
    const fraction = total === 0 ? 1 : done / total;
    const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ${done}/${total} events  ${Math.round(rate)} events/s`);
      if (done >= total) stream.write('\n');
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      logger.info({ done, total, percent: Math.round(fraction * 100), eventsPerSecond: Math.round(rate) }, 'rebuilding projections');
    }
  };
}
