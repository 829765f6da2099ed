/** What a benchmark section records about the run: the code measured and the broker's version. */
import { execFileSync } from 'node:child_process';
import * as amqp from 'amqplib';

/** HEAD, and whether the measured code (apps, libs, migrations) had uncommitted changes. */
export function gitRef(repo: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs', 'migrations'], { cwd: repo, encoding: 'utf8' }).trim() !== '';
    return `${head}${dirty ? ' + uncommitted changes in apps/libs/migrations' : ''}`;
  } catch {
    return 'unknown';
  }
}

/** The RabbitMQ server's version as it announces itself, or 'unknown'. */
export async function rabbitmqVersion(url: string): Promise<string> {
  try {
    const c = await amqp.connect(url);
    const props = (c as unknown as { connection: { serverProperties?: Record<string, unknown> } }).connection.serverProperties;
    await c.close();
    return String(props?.version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}
