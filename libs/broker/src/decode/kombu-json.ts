/**
 * Decoding of kombu's tagged JSON values.
 *
 * kombu >= 5.3 (`kombu/utils/json.py`) writes values JSON cannot carry as an object with exactly
 * two keys, `{"__type__": T, "__value__": V}`:
 *
 * | T          | V                               | decoded here to            |
 * |------------|---------------------------------|----------------------------|
 * | `datetime` | ISO-8601 string                 | the ISO string, unchanged  |
 * | `date`     | ISO-8601 string                 | the ISO string, unchanged  |
 * | `time`     | ISO-8601 string                 | the ISO string, unchanged  |
 * | `decimal`  | `str(Decimal)`                  | that string                |
 * | `uuid`     | `{"hex": <32 hex>, "version"}`  | canonical `8-4-4-4-12` lowercase form |
 * | `bytes`    | the bytes decoded as UTF-8      | that string                |
 * | `base64`   | base64 of non-UTF-8 bytes       | the base64 text, unchanged |
 *
 * kombu 5.2 wrote datetimes as plain ISO strings: those are ordinary strings and pass through.
 * An unknown `T`, or a known `T` with a value of the wrong shape, leaves the object as it is
 * (kombu itself would raise; a monitor keeps the data).
 */

/** Deepest nesting walked; deeper values are kept as they are (no stack overflow on hostile input). */
const MAX_DEPTH = 512;

/**
 * Returns `value` with every kombu `__type__` object decoded, innermost first (as kombu's
 * `object_hook` does). Copy-on-write: the input is never modified, and when nothing needed
 * decoding the very same reference is returned (no allocation on the common path).
 */
export function reviveKombuTypes(value: unknown): unknown {
  return revive(value, 0);
}

function revive(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return reviveArray(value, depth);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // Buffer, Date, class instances
  return reviveObject(value as Record<string, unknown>, depth);
}

function reviveArray(arr: unknown[], depth: number): unknown[] {
  let out: unknown[] | null = null;
  for (let i = 0; i < arr.length; i++) {
    const item = arr[i];
    if (typeof item !== 'object' || item === null) continue;
    const revived = revive(item, depth + 1);
    if (revived !== item) {
      if (out === null) out = arr.slice();
      out[i] = revived;
    }
  }
  return out ?? arr;
}

function reviveObject(obj: Record<string, unknown>, depth: number): unknown {
  let out: Record<string, unknown> | null = null;
  let keyCount = 0;
  for (const key in obj) {
    keyCount++;
    const item = obj[key];
    if (typeof item !== 'object' || item === null) continue;
    const revived = revive(item, depth + 1);
    if (revived !== item) {
      if (out === null) out = { ...obj };
      setOwn(out, key, revived);
    }
  }
  const result = out ?? obj;
  if (keyCount === 2 && typeof result.__type__ === 'string' && '__value__' in result) {
    return decodeTagged(result.__type__, result.__value__, result);
  }
  return result;
}

/** Plain assignment would turn a `__proto__` key into a prototype change. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

function decodeTagged(type: string, value: unknown, original: unknown): unknown {
  switch (type) {
    case 'datetime':
    case 'date':
    case 'time':
    case 'decimal':
    case 'bytes':
    case 'base64':
      return typeof value === 'string' ? value : original;
    case 'uuid':
      return decodeUuid(value) ?? original;
    default:
      return original;
  }
}

/** kombu writes `{"hex": o.hex, "version": o.version}`; a bare string is accepted too. */
function decodeUuid(value: unknown): string | null {
  let hex: unknown = value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    hex = (value as Record<string, unknown>).hex;
  }
  if (typeof hex !== 'string') return null;
  return canonicalUuid(hex);
}

/** `8-4-4-4-12` lowercase form of a 32-digit hex (dashes and braces tolerated), else null. */
export function canonicalUuid(text: string): string | null {
  let digits = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) digits += text[i];
    else if (c >= 65 && c <= 70) digits += String.fromCharCode(c + 32);
    else if (c === 45 /* - */ || c === 123 /* { */ || c === 125 /* } */) continue;
    else return null;
  }
  if (digits.length !== 32) return null;
  return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
}
