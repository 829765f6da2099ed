import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_SETTINGS, ApiConfigError, loadApiConfig } from './config';

function problems(env: Record<string, string>): string[] {
  try {
    loadApiConfig(env);
  } catch (error) {
    if (error instanceof ApiConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('API configuration', () => {
  it('has working defaults: the collector\'s SQLite file, 4 reader threads', () => {
    const config = loadApiConfig({});
    expect(config).toMatchObject({ databaseUrl: 'sqlite:data/celery-monitor.db', port: 4000, tailIntervalMs: 10, tailNotifiedIntervalMs: 1000, sqliteReaders: 4, maxPageSize: 500, defaultPageSize: 50 });
    expect(loadApiConfig({ CM_API_SQLITE_READERS: '0' }).sqliteReaders).toBe(0);
  });

  it('names the setting, the bad value and what is expected, every problem at once', () => {
    expect(problems({ CM_API_SQLITE_READERS: 'many' })).toEqual(['CM_API_SQLITE_READERS must be an integer from 0 to 64, got "many"']);
    expect(problems({ CM_API_TAIL_NOTIFIED_INTERVAL_MS: 'soon' })).toEqual(['CM_API_TAIL_NOTIFIED_INTERVAL_MS must be an integer from 5 to 60000, got "soon"']);
    expect(problems({ CM_API_SQLITE_READERS: '-1', CM_DATABASE_URL: 'mysql://h/db', CM_API_TAIL_INTERVAL_MS: '1' })).toHaveLength(3);
    expect(problems({ CM_API_DEFAULT_PAGE_SIZE: '600' })).toEqual(['CM_API_DEFAULT_PAGE_SIZE (600) must not exceed CM_API_MAX_PAGE_SIZE (500)']);
    // A blank value is not 0 (Number(' ') is).
    expect(problems({ CM_API_PORT: ' ', CM_API_SQLITE_READERS: '\t' })).toEqual([
      'CM_API_PORT must be an integer from 0 to 65535, got " "',
      'CM_API_SQLITE_READERS must be an integer from 0 to 64, got "\t"',
    ]);
  });

  it('documents every setting with its variable, default and help, in the README too', () => {
    const readme = readFileSync(resolve(__dirname, '../../../README.md'), 'utf8');
    for (const setting of Object.values(API_SETTINGS)) {
      expect(readme, `README.md mentions ${setting.env}`).toContain(setting.env);
      expect(setting.env).toMatch(/^CM_[A-Z_]+$/);
      expect(setting.help.length).toBeGreaterThan(10);
      expect(loadApiConfig({ [setting.env]: setting.default })).toEqual(loadApiConfig({}));
    }
  });
});
