/**
 * Prepared statements kept for the life of a SQLite connection. The write path runs a handful of
 * statement shapes thousands of times a second: preparing (and building them through Kysely)
 * each time cost more than running them. Used by repositories only, inside the write transaction
 * of `withWriteTransaction` (same connection, so same transaction).
 */
import type BetterSqlite3 from 'better-sqlite3';

export class StatementCache {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(readonly connection: BetterSqlite3.Database) {}

  get(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.connection.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** `"a", "b"` for column lists (names come from code, never from input). */
export function columnList(columns: readonly string[]): string {
  return columns.map((c) => `"${c}"`).join(', ');
}

export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
