/** schema.graphql is what the API serves: regenerate it with `npm run schema` when this fails. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('schema.graphql', () => {
  it('matches the schema generated from the resolvers (run npm run schema to update it)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [resolve(__dirname, '../../dist/apps/api/print-schema.js')], { timeout: 60_000 });
    const committed = readFileSync(resolve(__dirname, '../../schema.graphql'), 'utf8');
    expect(stdout.length).toBeGreaterThan(100);
    expect(committed).toBe(stdout);
  });
});
