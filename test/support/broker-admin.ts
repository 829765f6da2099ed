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

export interface RabbitQueueCounts {
  /** Messages waiting to be delivered. */
  ready: number;
  /** Messages delivered to a consumer and not acknowledged yet. */
  unacknowledged: number;
  consumers: number;
}

/**
 * A queue's message counts as RabbitMQ holds them right now (`rabbitmqctl list_queues` asks the
 * queue process itself, unlike the management statistics, which lag); null when there is no such
 * queue in the default vhost.
 */
export async function rabbitQueueCounts(queue: string): Promise<RabbitQueueCounts | null> {
  const { stdout } = await run(
    'rabbitmqctl',
    ['-q', 'list_queues', '--no-table-headers', 'name', 'messages_ready', 'messages_unacknowledged', 'consumers'],
    { timeout: 30_000 },
  );
  for (const line of stdout.split('\n')) {
    const [name, ready, unacknowledged, consumers] = line.split('\t');
    if (name === queue) return { ready: Number(ready), unacknowledged: Number(unacknowledged), consumers: Number(consumers) };
  }
  return null;
}
