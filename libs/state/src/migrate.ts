/** Applies the migration set in `migrations/` to a database, idempotently. */
import { Migrator, sql, type MigrationResult } from 'kysely';
import { migrations } from '../../../migrations';
import type { Database } from './database';

export class MigrationError extends Error {}

/**
 * A Kysely Migrator over `migrations/` for this database. On Postgres the migration tables live in
 * the schema the tables go to (the URL's `schema`, else the connection's current schema), named
 * explicitly: without a schema, Kysely would take a `kysely_migration` table of another schema of
 * the same database for ours and skip creating its lock table. Kysely creates that schema when it
 * is missing, and copes with another process creating it at the same moment.
 */
export async function migratorFor(database: Database): Promise<Migrator> {
  let schema: string | null = null;
  if (database.dialect === 'postgres') {
    schema = database.pgSchema ?? (await currentSchema(database)) ?? 'public';
  }
  return new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations },
    ...(schema !== null ? { migrationTableSchema: schema } : {}),
  });
}

async function currentSchema(database: Database): Promise<string | null> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(database.db);
  return rows[0]?.schema ?? null;
}

export async function migrateToLatest(database: Database): Promise<MigrationResult[]> {
  const { error, results } = await (await migratorFor(database)).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const cause = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${failed} failed on ${database.description}: ${cause}`, { cause: error });
  }
  return results ?? [];
}
