/**
 * Prepared statements of one SQLite connection, kept by SQL text and bounded (least recently used
 * first out). Preparing a statement costs about as much as running a short one, and the API and
 * the reader threads run the same few shapes over and over. A statement is only ever used by its
 * own connection, one query at a time, so reusing it is safe; SQLite re-prepares it by itself
 * after a schema change.
 */
import type BetterSqlite3 from 'better-sqlite3';

export const DEFAULT_MAX_STATEMENTS = 256;

export class PreparedStatements {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    readonly connection: BetterSqlite3.Database,
    private readonly max = DEFAULT_MAX_STATEMENTS,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`PreparedStatements: max must be a positive integer, got ${max}`);
  }

  get(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (statement) {
      this.statements.delete(sql); // set again below: the map's order is least recently used first
    } else {
      statement = this.connection.prepare(sql);
      if (this.statements.size >= this.max) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, statement);
    return statement;
  }

  get size(): number {
    return this.statements.size;
  }
}

/**
 * The connection as Kysely's SqliteDialect sees it, with `prepare` served from its
 * PreparedStatements. Kysely runs one query at a time per connection (its own mutex), so a
 * statement is never in use twice at once.
 */
export function withPreparedStatements(statements: PreparedStatements): { prepare(sql: string): BetterSqlite3.Statement; close(): void } {
  return {
    prepare: (sql) => statements.get(sql),
    close: () => statements.connection.close(),
  };
}
