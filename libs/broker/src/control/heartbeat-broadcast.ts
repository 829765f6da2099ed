/**
 * The `heartbeat` remote-control broadcast (celery.pidbox, no reply): every worker answers by
 * sending a worker-heartbeat at once, so liveness recovers right after an event gap.
 */
export const PIDBOX_EXCHANGE = 'celery.pidbox';

export interface BroadcastMessage {
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
}

export function heartbeatBroadcast(nowSeconds: number, timeoutSeconds = 5): BroadcastMessage {
  return {
    body: { method: 'heartbeat', arguments: {}, destination: null, pattern: null, matcher: null },
    headers: { clock: 1, expires: nowSeconds + timeoutSeconds },
  };
}
