/**
 * The total order projections use to decide which event "wins" a field, whatever order events
 * are folded in: (timestamp, clock ?? -1, dedup_key), compared lexicographically. dedup_key is
 * unique per stored event, so two distinct events never compare equal.
 *
 * Also the compact, canonical encoding of order keys inside `merge_meta`: a sorted table of
 * distinct keys (`o`) that the per-field entries reference by index, so that a row's meta text
 * depends only on the set of events merged, never on the order they were merged in.
 */
import type { StoredEvent } from '../stored-event';

/** [timestamp, clock (-1 when absent), dedup_key]. */
export type OrderKey = readonly [number, number, string];

export function orderKeyOf(event: Pick<StoredEvent, 'timestamp' | 'clock' | 'dedup_key'>): OrderKey {
  return [event.timestamp, event.clock ?? -1, event.dedup_key];
}

/** Negative when a < b, positive when a > b, 0 when equal. */
export function compareOrderKeys(a: OrderKey, b: OrderKey): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  if (a[2] !== b[2]) return a[2] < b[2] ? -1 : 1;
  return 0;
}

function isOrderKey(v: unknown): v is OrderKey {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    typeof v[0] === 'number' &&
    typeof v[1] === 'number' &&
    typeof v[2] === 'string'
  );
}

/** Parses merge_meta text; anything unreadable yields an empty object (the row then re-learns). */
export function parseMeta(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Reads `{o: [key…], f: {field: index}}` back into field -> key. Malformed entries are skipped. */
export function decodeFieldKeys(meta: Record<string, unknown>): Map<string, OrderKey> {
  const out = new Map<string, OrderKey>();
  const table = meta['o'];
  const fields = meta['f'];
  if (!Array.isArray(table) || fields === null || typeof fields !== 'object') return out;
  for (const [field, index] of Object.entries(fields as Record<string, unknown>)) {
    if (typeof index !== 'number') continue;
    const key: unknown = table[index];
    if (isOrderKey(key)) out.set(field, key);
  }
  return out;
}

/** Reads one key referenced by index into the `o` table (null when absent or malformed). */
export function decodeKeyRef(meta: Record<string, unknown>, index: unknown): OrderKey | null {
  const table = meta['o'];
  if (!Array.isArray(table) || typeof index !== 'number') return null;
  const key: unknown = table[index];
  return isOrderKey(key) ? key : null;
}

/**
 * Builds the canonical key table from every key the meta references: sorted ascending, without
 * duplicates. Returns the table and a lookup from key to index.
 */
export function buildKeyTable(keys: Iterable<OrderKey>): { table: OrderKey[]; indexOf: (k: OrderKey) => number } {
  const sorted = [...keys].sort(compareOrderKeys);
  const table: OrderKey[] = [];
  for (const k of sorted) {
    const last = table[table.length - 1];
    if (last === undefined || compareOrderKeys(last, k) !== 0) table.push(k);
  }
  const byDedup = new Map<string, number>();
  let collisions = false;
  table.forEach((k, i) => {
    if (byDedup.has(k[2])) collisions = true;
    byDedup.set(k[2], i);
  });
  const indexOf = collisions
    ? (k: OrderKey): number => table.findIndex((t) => compareOrderKeys(t, k) === 0)
    : (k: OrderKey): number => byDedup.get(k[2]) ?? -1;
  return { table, indexOf };
}
