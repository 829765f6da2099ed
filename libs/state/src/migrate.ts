/** Applies the migration set in `migrations/` to a database, idempotently. */
import { Migrator, sql, type MigrationResult } from 'kysely';
import { migrations } from '../../../migrations';
import type { Database } from './database';

export class MigrationError extends Error {}

/** A Kysely Migrator over `migrations/` for this database (its Postgres schema keeps the migration table). */
export function migratorFor(database: Database): Migrator {
  return new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations },
    ...(database.pgSchema ? { migrationTableSchema: database.pgSchema } : {}),
  });
}

export async function migrateToLatest(database: Database): Promise<MigrationResult[]> {
  if (database.pgSchema) {
    await sql`create schema if not exists ${sql.id(database.pgSchema)}`.execute(database.db);
  }
  const { error, results } = await migratorFor(database).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const cause = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${failed} failed on ${database.description}: ${cause}`, { cause: error });
  }
  return results ?? [];
}
