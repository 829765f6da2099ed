/** The few column types that differ between SQLite and Postgres, in one place. */
import { PostgresAdapter, SqliteAdapter, sql, type ColumnDefinitionBuilder, type Kysely, type RawBuilder } from 'kysely';
import type { DialectName } from './database';

export function dialectOf(db: Kysely<unknown>): DialectName {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  throw new Error(`unsupported Kysely adapter ${adapter.constructor.name}: only SQLite and Postgres are supported`);
}

export interface ColumnTypes {
  /** 64-bit integer. */
  bigint: 'integer' | 'bigint';
  double: 'real' | 'double precision';
  bytes: RawBuilder<unknown>;
  /** Adds an auto-incrementing primary key to a column builder. */
  autoIncrementPrimaryKey(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
}

export function columnTypes(dialect: DialectName): ColumnTypes {
  if (dialect === 'sqlite') {
    return {
      bigint: 'integer',
      double: 'real',
      bytes: sql`blob`,
      autoIncrementPrimaryKey: (col) => col.primaryKey().autoIncrement(),
    };
  }
  return {
    bigint: 'bigint',
    double: 'double precision',
    bytes: sql`bytea`,
    autoIncrementPrimaryKey: (col) => col.primaryKey().generatedAlwaysAsIdentity(),
  };
}
