/** Stored task rows to GraphQL tasks. */
import type { TaskRecord } from '../../../../libs/state/src';
import { toDate } from '../graphql/scalars';
import type { TaskModel } from './task.model';

const READY = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

const flag = (value: number | null): boolean | null => (value === null ? null : value !== 0);

export function toTaskModel(row: TaskRecord): TaskModel {
  return {
    uuid: row.uuid,
    name: row.name,
    state: row.state,
    stateAt: toDate(row.state_at),
    sentAt: toDate(row.sent_at),
    receivedAt: toDate(row.received_at),
    startedAt: toDate(row.started_at),
    succeededAt: toDate(row.succeeded_at),
    failedAt: toDate(row.failed_at),
    retriedAt: toDate(row.retried_at),
    revokedAt: toDate(row.revoked_at),
    rejectedAt: toDate(row.rejected_at),
    finishedAt: READY.has(row.state) ? toDate(row.state_at) : null,
    args: row.args,
    kwargs: row.kwargs,
    result: row.result,
    exception: row.exception,
    traceback: row.traceback,
    runtime: row.runtime,
    queueWait: row.received_at !== null && row.started_at !== null && row.started_at >= row.received_at ? row.started_at - row.received_at : null,
    retries: row.retries,
    eta: row.eta,
    expires: row.expires,
    worker: row.worker,
    client: row.client,
    queue: row.queue,
    exchange: row.exchange,
    routingKey: row.routing_key,
    rootId: row.root_id,
    parentId: row.parent_id,
    revokedTerminated: flag(row.revoked_terminated),
    revokedSignum: row.revoked_signum,
    revokedExpired: flag(row.revoked_expired),
    rejectedRequeue: flag(row.rejected_requeue),
    source: row.source,
    eventCount: row.event_count,
    lastPosition: row.last_position,
  };
}
