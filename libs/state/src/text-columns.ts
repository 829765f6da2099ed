/**
 * Text headed for a text column of either database. Postgres refuses U+0000 in `text` (SQLSTATE
 * 22021), and one such value would fail the whole transaction: every event of the batch, again on
 * each retry. Celery sends NUL where a task's own text holds it (an exception message, a
 * traceback), so projected and diagnostic text replaces it with U+FFFD on both databases (the same
 * rows either way); the event's payload keeps the original, JSON-escaped.
 */
export function textColumn(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/** {@link textColumn} for nullable values. */
export function nullableTextColumn(value: string | null): string | null {
  return value === null ? null : textColumn(value);
}
