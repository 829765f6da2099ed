/**
 * Opaque cursors of the `tasks` connection: base64url of `["task", version, field, direction,
 * ...sort key]`. A cursor names the order it was issued for, so one from another order (or another
 * connection, or garbage) is rejected with a message instead of silently paging wrong.
 */
import { isTaskOrderField, isTaskSortKey, type TaskSortField, type TaskSortKey, type TaskSortOrder } from '../../../../libs/state/src';

const TAG = 'task';
const VERSION = 1;
/** Longest cursor accepted (a sort key holds a name, a time and a uuid). */
const MAX_CURSOR_LENGTH = 4096;

export function encodeTaskCursor(order: TaskSortOrder, key: TaskSortKey): string {
  return Buffer.from(JSON.stringify([TAG, VERSION, order.field, order.direction, ...key]), 'utf8').toString('base64url');
}

export type DecodedCursor = { ok: true; key: TaskSortKey } | { ok: false; problem: string };

/** The sort key in `cursor` when it was issued for `order`, else why not (a sentence for the client). */
export function decodeTaskCursor(cursor: string, order: TaskSortOrder): DecodedCursor {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    return { ok: false, problem: 'it is not a cursor of the tasks connection (pass an endCursor or edge cursor returned by tasks)' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed[0] !== TAG || parsed[1] !== VERSION) {
    return { ok: false, problem: 'it is not a cursor of the tasks connection (pass an endCursor or edge cursor returned by tasks)' };
  }
  const [, , field, direction, ...key] = parsed as unknown[];
  if (!isTaskOrderField(field) || (direction !== 'asc' && direction !== 'desc') || !isTaskSortKey(field, key) || key.some((k) => typeof k === 'string' && k.includes('\u0000'))) {
    return { ok: false, problem: 'it is damaged (pass an endCursor or edge cursor returned by tasks, unchanged)' };
  }
  if (field !== order.field || direction !== order.direction) {
    return {
      ok: false,
      problem: `it was issued for orderBy {field: ${describeField(field)}, direction: ${direction.toUpperCase()}}, not {field: ${describeField(order.field)}, direction: ${order.direction.toUpperCase()}}: keep the orderBy of the first page, or start again without after`,
    };
  }
  return { ok: true, key };
}

function describeField(field: TaskSortField): string {
  return field.toUpperCase();
}
