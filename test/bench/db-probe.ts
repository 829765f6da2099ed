/**
 * Read-only look at the collector's SQLite file while it runs (WAL mode: readers never block the
 * writer). Counts only the benchmark's own events (its source name and hostnames), so derived
 * events (collector:*) and anything else that reached the queue are left out.
 */
import BetterSqlite3 from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';

export class DbProbe {
  private db: BetterSqlite3.Database | null = null;

  constructor(readonly path: string) {}

  /** Opens the file once it exists and its migrations created `events`. */
  ready(): boolean {
    if (this.db) return true;
    if (!existsSync(this.path)) return false;
    try {
      const db = new BetterSqlite3(this.path, { readonly: true, fileMustExist: true });
      const table = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'events'").get();
      if (!table) {
        db.close();
        return false;
      }
      this.db = db;
      return true;
    } catch {
      return false;
    }
  }

  private get handle(): BetterSqlite3.Database {
    if (!this.ready()) throw new Error(`${this.path} is not ready`);
    return this.db!;
  }

  /** Cheap progress signal (all sources): the newest position. */
  maxPosition(): number {
    const row = this.handle.prepare('select max(position) as p from events').get() as { p: number | null };
    return row.p ?? 0;
  }

  count(source: string, hostnames: readonly string[]): number {
    const marks = hostnames.map(() => '?').join(', ');
    const row = this.handle.prepare(`select count(*) as n from events where source = ? and hostname in (${marks})`).get(source, ...hostnames) as { n: number };
    return row.n;
  }

  /** received_at (epoch s) of the first stored event of `source`: when the first delivery arrived. */
  firstReceivedAt(source: string): number | null {
    const row = this.handle.prepare('select received_at as r from events where source = ? order by position limit 1').get(source) as { r: number } | undefined;
    return row?.r ?? null;
  }

  scalar(sql: string): number {
    const row = this.handle.prepare(sql).get() as Record<string, number> | undefined;
    return row ? Number(Object.values(row)[0] ?? 0) : 0;
  }

  /** Names of the applied migrations (kysely_migration), in order. */
  migrations(): string[] {
    try {
      return (this.handle.prepare('select name from kysely_migration order by name').all() as Array<{ name: string }>).map((r) => r.name);
    } catch {
      return [];
    }
  }

  /** Index names per table, for the record of what the collector had to maintain. */
  indexCount(table: string): number {
    return this.scalar(`select count(*) as n from sqlite_master where type = 'index' and tbl_name = '${table.replace(/'/g, "''")}'`);
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }
}

/** Database file + WAL (+ shm) sizes, bytes. */
export function sqliteFileBytes(path: string): { db: number; wal: number; total: number } {
  const size = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  const db = size(path);
  const wal = size(`${path}-wal`);
  return { db, wal, total: db + wal };
}
