/**
 * Validates docker-compose.yml with Debian's docker-compose (v1). A missing binary is a failure,
 * not a skip: CI installs it, and locally it is one `apt-get install -y docker-compose` away.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = path.resolve(__dirname, '..');
const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');
const INSTALL_HINT =
  "docker-compose is not installed: install Debian's docker-compose (`apt-get install -y docker-compose`) to run this test";

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function compose(args: string[]): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    execFile(
      'docker-compose',
      ['-f', COMPOSE_FILE, ...args],
      { cwd: REPO_ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error(INSTALL_HINT));
          return;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('docker-compose.yml', () => {
  it('is valid according to `docker-compose config -q`', async () => {
    const result = await compose(['config', '-q']);
    expect(result.code, `docker-compose config -q failed:\n${result.stderr}${result.stdout}`).toBe(0);
  });

  it('defines the brokers, Postgres, the collector and the API', async () => {
    const result = await compose(['config', '--services']);
    expect(result.code, result.stderr).toBe(0);
    const services = result.stdout.split('\n').map((s) => s.trim()).filter(Boolean).sort();
    expect(services).toEqual(['api', 'collector', 'postgres', 'rabbitmq', 'redis']);
  });

  it('wires the collector to both brokers and Postgres, gated on healthy dependencies', async () => {
    const result = await compose(['config']);
    expect(result.code, result.stderr).toBe(0);
    const config = result.stdout;
    expect(config).toContain('CM_BROKERS: rabbit=amqp://guest:guest@rabbitmq:5672//,redis=redis://redis:6379/0');
    expect(config).toContain('CM_DATABASE_URL: postgres://postgres:postgres@postgres:5432/celery_monitor');
    expect(config).toMatch(/CM_HTTP_PORT: '9808'/);
    expect(config).toContain('/healthz');
    expect(config).toContain('condition: service_healthy');
    expect(config).toContain('dist/apps/api/main.js');
  });
});
