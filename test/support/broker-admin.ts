/**
 * Targeted broker disruptions for reconnect tests: close only the connections a test owns,
 * found by the client name the collector gives them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';

const run = promisify(execFile);

/** Closes every RabbitMQ connection whose connection_name contains `namePart`; returns how many. */
export async function closeRabbitConnections(namePart: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties'], { timeout: 30_000 });
  const names = stdout
    .split('\n')
    .filter((line) => line.includes(namePart))
    .map((line) => line.split('\t')[0]!)
    .filter((name) => name !== '');
  for (const name of names) {
    await run('rabbitmqctl', ['-q', 'close_connection', name, 'test: simulated connection loss'], { timeout: 30_000 });
  }
  return names.length;
}

/** Kills Redis client connections by their CLIENT SETNAME; returns how many. */
export async function killRedisClients(url: string, name: string): Promise<number> {
  const admin = new Redis(url);
  try {
    const list = (await admin.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    for (const id of ids) await admin.client('KILL', 'ID', id);
    return ids.length;
  } finally {
    admin.disconnect();
  }
}
