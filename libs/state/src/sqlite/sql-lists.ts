/** Pieces of SQL text for the statements the repositories prepare by hand. */

/** `"a", "b"` for column lists (names come from code, never from input). */
export function columnList(columns: readonly string[]): string {
  return columns.map((c) => `"${c}"`).join(', ');
}

export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
