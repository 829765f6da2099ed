/** Conversions between stored values and GraphQL values. */

/** Epoch seconds (as stored) to a Date for `DateTime` fields. */
export function toDate(epochSeconds: number | null | undefined): Date | null {
  // Rounded, not truncated: 0.123 s stored as 0.12299999 must read back as .123.
  return epochSeconds === null || epochSeconds === undefined ? null : new Date(Math.round(epochSeconds * 1000));
}

/** A `DateTime` argument to epoch seconds. */
export function toEpochSeconds(date: Date | null | undefined): number | null {
  return date === null || date === undefined ? null : date.getTime() / 1000;
}

/**
 * Glob (`*` any run, `?` one character; everything else, `[` included, literal) to an anchored,
 * case-sensitive regular expression. `?` is one code point, as SQL's `_` is one character.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'su');
}
