/**
 * Fresh, isolated databases for tests on both dialects: a SQLite file in a temp folder, and a
 * Postgres schema of its own on the machine's server (dropped afterwards).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as pg from 'pg';

export const POSTGRES_URL = process.env.CM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type DialectUnderTest = 'sqlite' | 'postgres';
export const DIALECTS: DialectUnderTest[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  dialect: DialectUnderTest;
  url: string;
  drop(): Promise<void>;
}

export function createTestDatabase(dialect: DialectUnderTest): TestDatabase {
  const id = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'cm-test-'));
    return { dialect, url: `sqlite:${join(dir, `${id}.db`)}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  return {
    dialect,
    url: `${POSTGRES_URL}?schema=${id}`,
    drop: async () => {
      await withPostgresAdmin((client) => client.query(`drop schema if exists ${id} cascade`));
    },
  };
}

/** Runs `work` on a client of its own to the test server (`url`: another database of it), closed afterwards. */
export async function withPostgresAdmin<T>(work: (client: pg.Client) => Promise<T>, url = POSTGRES_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
