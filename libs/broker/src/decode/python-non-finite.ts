/**
 * Python's json.dumps writes float('nan') and ±float('inf') as the bare words NaN, Infinity and
 * -Infinity (allow_nan=True, its default): not JSON, so JSON.parse refuses the whole body. A
 * `task.multi` array with one such number would then be lost whole, although each of its elements
 * stands or falls on its own.
 *
 * When a body fails to parse, {@link markNonFiniteLiterals} rewrites those words (outside strings
 * only) into marker strings; the body parses, and {@link findNonFinite} names, per element, the
 * field that held one, so that element alone is rejected with a precise reason.
 */

/** Prefix of the marker strings (a NUL character never occurs in a Celery field name or value). */
const MARK = '\u0000celery-monitor:non-finite:';
const LITERALS = ['NaN', 'Infinity', '-Infinity'] as const;
export type NonFiniteLiteral = (typeof LITERALS)[number];

/** Where a non-finite number was: the top-level field of the event and the literal. */
export interface NonFiniteField {
  field: string;
  literal: NonFiniteLiteral;
}

/**
 * The text with every bare NaN / Infinity / -Infinity outside strings replaced by a marker string,
 * or null when it holds none (the parse error then stands as it is).
 */
export function markNonFiniteLiterals(text: string): string | null {
  if (!text.includes('NaN') && !text.includes('Infinity')) return null;
  let out = '';
  let copiedTo = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i += 1;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    const literal = literalAt(text, i);
    if (literal === null) continue;
    out += text.slice(copiedTo, i) + JSON.stringify(MARK + literal);
    i += literal.length - 1;
    copiedTo = i + 1;
  }
  return copiedTo === 0 ? null : out + text.slice(copiedTo);
}

function literalAt(text: string, i: number): NonFiniteLiteral | null {
  for (const literal of LITERALS) {
    if (!text.startsWith(literal, i)) continue;
    // A whole word only: `NaNx` or `Infinityy` stay invalid JSON.
    const after = text.charCodeAt(i + literal.length);
    if (Number.isNaN(after) || !/[A-Za-z0-9_]/.test(String.fromCharCode(after))) return literal;
  }
  return null;
}

/** The first marker in `value` (an element parsed from a marked text), by its top-level field. */
export function findNonFinite(value: unknown): NonFiniteField | null {
  if (typeof value !== 'object' || value === null) return null;
  for (const [field, v] of Object.entries(value)) {
    const literal = firstMark(v);
    if (literal !== null) return { field, literal };
  }
  return null;
}

/** Deepest level searched: an event nested deeper is rejected for its nesting anyway (event-validation.ts). */
const MAX_SEARCH_DEPTH = 128;

function firstMark(value: unknown, depth = 0): NonFiniteLiteral | null {
  if (typeof value === 'string') return value.startsWith(MARK) ? (value.slice(MARK.length) as NonFiniteLiteral) : null;
  if (typeof value !== 'object' || value === null || depth >= MAX_SEARCH_DEPTH) return null;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    const found = firstMark(v, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** JSON text of a marked value with the bare words back where they were (as Python wrote them). */
export function unmarkedJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? '';
  } catch {
    return ''; // too deep to write back (never a Celery event): the rejection keeps the whole message instead
  }
  return text.replace(/"\\u0000celery-monitor:non-finite:(NaN|-?Infinity)"/g, '$1');
}
