/**
 * `tasks.event_positions`: the positions of a task's events in the log, ascending and distinct,
 * as decimal integers joined by commas ("" for none). It is how a task's events are found: the
 * log has no index by task uuid (migration 0006).
 */

/**
 * The positions an `event_positions` text holds, ascending and distinct. Only this projection
 * writes the column; should a value ever be damaged, the pieces that are not positions are left
 * out rather than stopping ingestion on that task for good (a rebuild rewrites the column).
 */
export function parseEventPositions(text: string): number[] {
  if (text === '') return [];
  const positions: number[] = [];
  let sorted = true;
  for (const piece of text.split(',')) {
    const p = Number(piece);
    if (piece === '' || !Number.isSafeInteger(p) || p <= 0) continue;
    if (positions.length > 0 && p <= positions[positions.length - 1]!) sorted = false;
    positions.push(p);
  }
  if (sorted) return positions;
  return [...new Set(positions)].sort((a, b) => a - b);
}
