/** Stored worker rows to GraphQL workers. */
import type { WorkerRecord } from '../../../../libs/state/src';
import { toDate } from '../graphql/scalars';
import { WorkerModel, WorkerStatus } from './worker.model';

export function toWorkerModel(row: WorkerRecord): WorkerModel {
  const online = row.status === 'online';
  const counts = JSON.parse(row.task_counts) as Record<string, number>;
  return {
    hostname: row.hostname,
    source: row.source,
    status: online ? WorkerStatus.ONLINE : WorkerStatus.OFFLINE,
    offlineReason: row.offline_reason,
    statusSince: toDate(online ? row.online_since : row.offline_since),
    onlineSince: toDate(row.online_since),
    offlineSince: toDate(row.offline_since),
    lastStartedAt: toDate(row.last_started_at),
    lastHeartbeatAt: toDate(row.last_heartbeat_at),
    lastSeenAt: toDate(row.last_seen_at),
    heartbeatExpiresAt: toDate(row.heartbeat_expires_at),
    swIdent: row.sw_ident,
    swVer: row.sw_ver,
    swSys: row.sw_sys,
    pid: row.pid,
    freq: row.freq,
    active: row.active,
    processed: row.processed,
    loadavg: row.loadavg === null ? null : (JSON.parse(row.loadavg) as number[]),
    taskCounts: Object.entries(counts).map(([state, count]) => ({ state, count })),
    lastPosition: row.last_position,
  };
}
