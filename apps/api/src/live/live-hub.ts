/**
 * Creates subscriptions on the process's one log tail, with their metrics: the openSubscriptions
 * gauge by field, and the subscribersCutOff counter when one falls behind.
 */
import type { ApiMetrics } from '../api-metrics';
import type { LiveFeed } from './live-subscription';
import { LiveSubscription } from './live-subscription';
import type { LogTailer } from './log-tailer';

export interface LiveHubOptions {
  /** Items a subscriber may have waiting before it is cut off (config.subscriberBuffer). */
  capacity: number;
  catchUpPageSize?: number;
  metrics?: ApiMetrics;
  logger?: { info(obj: object, msg: string): void };
}

export class LiveHub {
  constructor(
    readonly tailer: LogTailer,
    private readonly options: LiveHubOptions,
  ) {}

  subscribe<T>(feed: LiveFeed<T>, afterPosition?: number): LiveSubscription<T> {
    const { metrics, logger } = this.options;
    metrics?.openSubscriptions.inc({ field: feed.field });
    return new LiveSubscription(this.tailer, feed, {
      afterPosition,
      capacity: this.options.capacity,
      catchUpPageSize: this.options.catchUpPageSize,
      onEnd: (reason, subscription) => {
        metrics?.openSubscriptions.dec({ field: feed.field });
        if (reason === 'cut-off') {
          metrics?.subscribersCutOff.inc({ field: feed.field });
          logger?.info({ field: feed.field, lastPosition: subscription.lastDelivered, capacity: this.options.capacity }, 'slow subscriber cut off');
        }
      },
    });
  }
}
