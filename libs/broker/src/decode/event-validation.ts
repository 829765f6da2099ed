/**
 * Turns one parsed JSON value into a CeleryEvent, or says precisely why it cannot be one.
 * Field rules follow Celery's own senders (`celery/worker/heartbeat.py`, `celery/app/task.py`,
 * `celery/worker/request.py`): see the wire-protocol reference, section 2.
 */
import type { CeleryEvent, DecodeOptions, RejectionReason } from '../celery-event';
import { describeValue } from './describe-value';
import { reviveKombuTypes } from './kombu-json';

export type EventValidation =
  | { ok: true; event: CeleryEvent }
  | { ok: false; reason: RejectionReason; detail: string };

/** The part of DecodeOptions that validation uses. */
export type TimestampBounds = Pick<DecodeOptions, 'now' | 'maxFutureSkewSeconds' | 'minTimestamp'>;

const enum Kind {
  NonNegativeInteger,
  Integer,
  FiniteNumber,
  FiniteNumberArray,
  Text,
  Bool,
  Signum,
}

const EXPECTED: readonly string[] = [
  'a non-negative integer up to 9007199254740991',
  'an integer within ±9007199254740991',
  'a finite number',
  'an array of finite numbers',
  'a string',
  'a boolean',
  'an integer, a string or null',
];

/** Known optional fields. `type`, `hostname` and `timestamp` are checked before these. */
const FIELD_KINDS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['clock', Kind.NonNegativeInteger],
  ['pid', Kind.Integer],
  ['active', Kind.Integer],
  ['processed', Kind.Integer],
  ['retries', Kind.Integer],
  ['freq', Kind.FiniteNumber],
  ['runtime', Kind.FiniteNumber],
  ['utcoffset', Kind.FiniteNumber],
  ['loadavg', Kind.FiniteNumberArray],
  ['uuid', Kind.Text],
  ['name', Kind.Text],
  ['args', Kind.Text],
  ['kwargs', Kind.Text],
  ['result', Kind.Text],
  ['exception', Kind.Text],
  ['traceback', Kind.Text],
  ['eta', Kind.Text],
  ['expires', Kind.Text],
  ['root_id', Kind.Text],
  ['parent_id', Kind.Text],
  ['queue', Kind.Text],
  ['exchange', Kind.Text],
  ['routing_key', Kind.Text],
  ['sw_ident', Kind.Text],
  ['sw_ver', Kind.Text],
  ['sw_sys', Kind.Text],
  ['terminated', Kind.Bool],
  ['expired', Kind.Bool],
  ['requeue', Kind.Bool],
  ['signum', Kind.Signum],
]);

/**
 * Celery's own event types: their fields are checked against FIELD_KINDS. Other types (custom
 * events sent with `send_event('task-progress', …)`) may use those names for anything: only
 * their `clock` (an order key) is checked, and the projections take what fits their columns.
 */
export const CELERY_EVENT_TYPES: ReadonlySet<string> = new Set([
  'task-sent', 'task-received', 'task-started', 'task-succeeded', 'task-failed', 'task-retried', 'task-revoked', 'task-rejected',
  'worker-online', 'worker-heartbeat', 'worker-offline',
]);

/**
 * Deepest nesting of arrays and objects accepted in a field value. Deeper values (no Celery event
 * holds one) would overflow the stack of the recursive walks that store and show an event.
 */
export const MAX_FIELD_NESTING = 64;

/**
 * Validates one event object. `fields` of the result is `reviveKombuTypes(obj)`: the input
 * object itself when it held no kombu `__type__` values (it is not copied, and not modified).
 */
export function validateEvent(obj: unknown, opts: TimestampBounds): EventValidation {
  return validateParsedEvent(obj, opts, true);
}

/**
 * {@link validateEvent} for callers that already know whether kombu types can be present
 * (`revive = false` skips the walk when the JSON text cannot contain a `__type__` key).
 */
export function validateParsedEvent(obj: unknown, opts: TimestampBounds, revive: boolean): EventValidation {
  const value = revive ? reviveKombuTypes(obj) : obj;
  if (!isPlainObject(value)) {
    return fail('not-an-object', `expected a JSON object, got ${kindOf(value)}`);
  }
  const fields = value;

  const type = fields.type;
  if (typeof type !== 'string') return requiredStringFailure('type', type);
  if (type.length === 0) return fail('missing-field', 'field "type" is empty');
  if (type.includes('\u0000')) return nulFailure('type', type);

  const hostname = fields.hostname;
  if (typeof hostname !== 'string') return requiredStringFailure('hostname', hostname);
  if (hostname.length === 0) return fail('missing-field', 'field "hostname" is empty');
  if (hostname.includes('\u0000')) return nulFailure('hostname', hostname);

  const timestamp = fields.timestamp;
  if (typeof timestamp !== 'number') {
    if (timestamp === undefined || timestamp === null) return fail('missing-field', 'missing field "timestamp"');
    return fail('wrong-field-type', `field "timestamp" must be a number, got ${describeValue(timestamp)}`);
  }
  const latest = opts.now + opts.maxFutureSkewSeconds;
  if (!(timestamp >= opts.minTimestamp && timestamp <= latest)) {
    // Also catches NaN (every comparison is false) and ±Infinity (1e400 parses as Infinity).
    const why = Number.isFinite(timestamp) ? 'is out of range' : 'must be a finite number';
    return fail(
      'bad-timestamp',
      `field "timestamp" ${why}: got ${describeValue(timestamp)}, allowed ${opts.minTimestamp} to ${latest} (epoch seconds)`,
    );
  }

  const uuid = fields.uuid;
  if (type.startsWith('task-')) {
    if (typeof uuid !== 'string') return requiredStringFailure('uuid', uuid, ` (required for ${type})`);
    if (uuid.length === 0) return fail('missing-field', `field "uuid" is empty (required for ${type})`);
  }
  if (typeof uuid === 'string' && uuid.includes('\u0000')) return nulFailure('uuid', uuid);

  const celeryType = CELERY_EVENT_TYPES.has(type);
  for (const key in fields) {
    const v = fields[key];
    if (typeof v === 'object' && v !== null) {
      const problem = valueProblem(v, MAX_FIELD_NESTING);
      if (problem === 'nesting') {
        return fail('wrong-field-type', `field "${key}" nests arrays or objects deeper than ${MAX_FIELD_NESTING} levels`);
      }
      if (problem === 'non-finite') return nonFiniteFailure(key);
    }
    const kind = celeryType || key === 'clock' ? FIELD_KINDS.get(key) : undefined;
    if (kind === undefined) {
      if (typeof v === 'number' && !Number.isFinite(v)) return nonFiniteFailure(key);
      continue;
    }
    if (v === null || v === undefined || hasKind(v, kind)) continue;
    return fail('wrong-field-type', `field "${key}" must be ${EXPECTED[kind]}, got ${describeValue(v)}`);
  }

  const clock = fields.clock;
  return {
    ok: true,
    event: {
      type,
      hostname,
      timestamp,
      clock: typeof clock === 'number' ? clock : null,
      uuid: typeof uuid === 'string' ? uuid : null,
      fields,
    },
  };
}

/**
 * What makes `value` (an array or object: level 1) unfit to store: arrays or objects more than
 * `levels` deep, or a number JSON cannot carry (a literal such as 1e400 parses as Infinity, and
 * would be stored as null while the live projection saw Infinity).
 */
function valueProblem(value: object, levels: number): 'nesting' | 'non-finite' | null {
  if (levels <= 0) return 'nesting';
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) return 'non-finite';
    } else if (typeof item === 'object' && item !== null) {
      const problem = valueProblem(item, levels - 1);
      if (problem !== null) return problem;
    }
  }
  return null;
}

function nonFiniteFailure(field: string): EventValidation {
  return fail('wrong-field-type', `field "${field}" holds a number beyond the range of a double (such as 1e400), which JSON cannot carry`);
}

function hasKind(v: unknown, kind: Kind): boolean {
  switch (kind) {
    // Safe integers only: the columns are bigint (Postgres refuses 1e19, and reads 1e21 as
    // "1e+21"), and a double holds no larger integer exactly anyway.
    case Kind.NonNegativeInteger:
      return Number.isSafeInteger(v) && (v as number) >= 0;
    case Kind.Integer:
      return Number.isSafeInteger(v);
    case Kind.FiniteNumber:
      return Number.isFinite(v);
    case Kind.FiniteNumberArray:
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
      return true;
    case Kind.Text:
      return typeof v === 'string';
    case Kind.Bool:
      return typeof v === 'boolean';
    case Kind.Signum:
      return typeof v === 'string' || Number.isInteger(v);
  }
}

function requiredStringFailure(field: string, value: unknown, suffix = ''): EventValidation {
  if (value === undefined || value === null) return fail('missing-field', `missing field "${field}"${suffix}`);
  return fail('wrong-field-type', `field "${field}" must be a non-empty string, got ${describeValue(value)}${suffix}`);
}

/** An identifier with U+0000 in it: no Celery node sends one, and no database column takes it (Postgres refuses NUL in text). */
function nulFailure(field: string, value: string): EventValidation {
  return fail('wrong-field-type', `field "${field}" must be a string without NUL characters (U+0000), got ${describeValue(value)}`);
}

function fail(reason: RejectionReason, detail: string): EventValidation {
  return { ok: false, reason, detail };
}

/** A JSON object: not null, not an array, and a plain (or null-prototype) object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `an array`, `a string ("x")`, `a number (5)`, `null` … for not-an-object details. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (${describeValue(value)})`;
  switch (typeof value) {
    case 'string':
      return `a string (${describeValue(value)})`;
    case 'number':
      return `a number (${describeValue(value)})`;
    case 'boolean':
      return `a boolean (${describeValue(value)})`;
    case 'object':
      return `a non-plain object (${Object.prototype.toString.call(value)})`;
    default:
      return typeof value;
  }
}
