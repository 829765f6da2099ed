/** Short, human-readable renderings of untrusted values for rejection details. */

/** Longest rendering of a value inside a detail message (characters, before the ellipsis). */
export const MAX_DESCRIBED_CHARS = 80;

/**
 * `"x"`, `12.5`, `NaN`, `Infinity`, `null`, `[1,2]`, `{"a":1}`, `undefined` … truncated to
 * {@link MAX_DESCRIBED_CHARS} characters with a trailing `…`. Never throws.
 */
export function describeValue(value: unknown): string {
  let text: string;
  switch (typeof value) {
    case 'string':
      text = JSON.stringify(value.length > MAX_DESCRIBED_CHARS ? value.slice(0, MAX_DESCRIBED_CHARS + 1) : value);
      break;
    case 'number':
    case 'boolean':
    case 'undefined':
      text = String(value);
      break;
    case 'bigint':
      text = `${value}n`;
      break;
    case 'object':
      if (value === null) {
        text = 'null';
        break;
      }
      text = safeJson(value) ?? Object.prototype.toString.call(value);
      break;
    default:
      text = `[${typeof value}]`;
  }
  return truncate(text, MAX_DESCRIBED_CHARS);
}

/** JSON.stringify that answers null instead of throwing (cycles, BigInt, very deep nesting). */
export function safeJson(value: unknown): string | null {
  try {
    const text: unknown = JSON.stringify(value);
    return typeof text === 'string' ? text : null;
  } catch {
    return null;
  }
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
