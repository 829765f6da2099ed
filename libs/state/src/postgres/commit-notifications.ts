/**
 * Postgres commit notifications: every append that stores events sends `pg_notify` inside its
 * transaction (Postgres delivers it at commit, never for a rollback), and a reader LISTENs on a
 * connection of its own to poll the log at once instead of at its next interval.
 *
 * A notification only says "the log grew": readers still read by position, so a notification
 * lost while the listening connection was down costs latency, never events. After every
 * (re)connect the listener says so (`onListening`), for the reader to poll once at once.
 */
import { sql, type Kysely } from 'kysely';
import * as pg from 'pg';

/** Postgres truncates identifiers (and channel names) to 63 bytes. */
const MAX_CHANNEL_BYTES = 63;

/** The channel of one schema's log: appends to another schema never wake this schema's readers. */
export function commitChannel(pgSchema: string | null): string {
  return `celery_monitor_commits${pgSchema ? `_${pgSchema}` : ''}`.slice(0, MAX_CHANNEL_BYTES);
}

/** Inside the append's transaction: tells listeners, at commit, the newest position stored. */
export async function notifyCommit<DB>(trx: Kysely<DB>, channel: string, lastPosition: number): Promise<void> {
  await sql`select pg_notify(${channel}, ${String(lastPosition)})`.execute(trx);
}

export interface CommitListenerOptions {
  /** A connection string (without the `schema` parameter: see database.ts). */
  connectionString: string;
  channel: string;
  /** Called with the newest position of each commit notification. */
  onCommit: (position: number) => void;
  /** Called each time LISTEN is in place (first connect and every reconnect): poll once now. */
  onListening?: () => void;
  /** Connection lost or refused: the listener retries, first after retryInitialMs. */
  onError?: (error: Error, retryInMs: number) => void;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export class CommitListener {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: CommitListenerOptions) {}

  /** Connects and listens; failures are reported through onError and retried in the background. */
  start(): void {
    this.stopped = false;
    void this.connect();
  }

  /** True while LISTEN is in place. */
  get listening(): boolean {
    return this.client !== null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString });
    // Until it is ours, an error here belongs to the connect below (pg emits and rejects both).
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.options.channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      this.retry(error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.failures = 0;
    this.client = client;
    client.on('notification', (message) => {
      const position = Number(message.payload);
      if (message.channel === this.options.channel && Number.isFinite(position)) this.options.onCommit(position);
    });
    const lost = (error: unknown) => {
      if (this.client !== client) return;
      this.client = null;
      void client.end().catch(() => undefined);
      this.retry(error ?? new Error('the connection ended'));
    };
    client.removeAllListeners('error');
    client.on('error', lost);
    client.on('end', () => lost(new Error('the connection ended')));
    this.options.onListening?.();
  }

  private retry(error: unknown): void {
    if (this.stopped) return;
    this.failures += 1;
    const initial = this.options.retryInitialMs ?? 250;
    const delay = Math.min(this.options.retryMaxMs ?? 30_000, initial * 2 ** Math.min(this.failures - 1, 20));
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)), delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }
}
