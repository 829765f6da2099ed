/**
 * The state layer's public face: append a batch (events + rejected messages) and project it in
 * one transaction; rebuild the projections from the log; the reads the collector needs.
 */
import { sql, type Kysely } from 'kysely';
import { statSync } from 'node:fs';
import { openDatabase, type Database, type OpenDatabaseOptions } from './database';
import { migrateToLatest } from './migrate';
import type { StoredEvent } from './stored-event';
import type { AppendInput, AppendReceipt, EventWriter } from './event-writer';
import { withWriteTransaction } from './write-transaction';
import type { DB } from './schema';
import { commitChannel, notifyCommit } from './postgres/commit-notifications';
import { EventLogRepository } from './repositories/event-log.repository';
import { TaskRepository, type StrandedTask, type TaskRecord } from './repositories/task.repository';
import { WorkerRepository, type WorkerRecord } from './repositories/worker.repository';
import { CheckpointRepository, type SourceCheckpoint } from './repositories/checkpoint.repository';
import { BatchProjector, DEFAULT_LIVENESS, PROJECTION_NAME, type LivenessOptions } from './projections/batch-projector';

export type { AppendInput } from './event-writer';

/** An append's receipt with the stored events whole (payloads included). */
export interface AppendResult extends AppendReceipt {
  stored: StoredEvent[];
}

export interface RebuildProgress {
  done: number;
  total: number;
}

export interface EventStoreOptions extends OpenDatabaseOptions {
  liveness?: Partial<LivenessOptions>;
  /** Apply migrations when opening (default true). */
  migrate?: boolean;
}

/** The tables an append writes (the write probe touches each). */
const APPEND_TABLES = ['events', 'rejected_messages', 'tasks', 'workers', 'source_checkpoints', 'projection_checkpoints'] as const;
/** How long the write probe waits for a table lock on Postgres. */
const PROBE_LOCK_TIMEOUT_MS = 1_000;

export class EventStore implements EventWriter {
  private readonly log: EventLogRepository;
  private readonly tasks: TaskRepository;
  private readonly workers: WorkerRepository;
  private readonly checkpoints: CheckpointRepository;
  private readonly projector: BatchProjector;
  /** Postgres: the channel told of every commit that stored events (readers LISTEN on it). */
  private readonly commitChannel: string | null;

  private constructor(
    readonly database: Database,
    readonly liveness: LivenessOptions,
  ) {
    const statements = database.sqliteStatements;
    this.commitChannel = database.dialect === 'postgres' ? commitChannel(database.pgSchema) : null;
    this.log = new EventLogRepository(statements);
    this.tasks = new TaskRepository(statements);
    this.workers = new WorkerRepository(statements);
    this.checkpoints = new CheckpointRepository(statements);
    this.projector = new BatchProjector(this.tasks, this.workers, this.checkpoints, liveness);
  }

  static async open(url: string, options: EventStoreOptions = {}): Promise<EventStore> {
    const database = openDatabase(url, options);
    try {
      if (options.migrate !== false) await migrateToLatest(database);
    } catch (error) {
      await database.close();
      throw error;
    }
    return new EventStore(database, { ...DEFAULT_LIVENESS, ...options.liveness });
  }

  get description(): string {
    return this.database.description;
  }

  /** Appends and projects in one transaction: when it resolves, everything is durable. */
  async append(input: AppendInput): Promise<AppendResult> {
    return withWriteTransaction(this.database, async (trx) => {
      const stored = input.events.length > 0 ? await this.log.append(trx, input.events) : [];
      const rejectedNew = input.rejected.length > 0 ? await this.log.storeRejected(trx, input.rejected) : [];
      await this.projector.project(trx, stored);
      await this.checkpoints.advanceSources(trx, sourceCheckpoints(stored));
      if (this.commitChannel !== null && stored.length > 0) await notifyCommit(trx, this.commitChannel, stored[stored.length - 1]!.position);
      return { stored, duplicates: input.events.length - stored.length, rejectedNew };
    });
  }

  /**
   * Replays the whole log, in position order, into empty projections, in one transaction (writers
   * wait until it commits; readers keep seeing the old tables until then).
   */
  async rebuildProjections(onProgress?: (p: RebuildProgress) => void, pageSize = 5000): Promise<RebuildProgress> {
    return withWriteTransaction(this.database, async (trx) => {
      const total = await this.log.countEvents(trx);
      await this.tasks.deleteAll(trx);
      await this.workers.deleteAll(trx);
      await this.checkpoints.deleteProjection(trx, PROJECTION_NAME);
      let done = 0;
      let after = 0;
      onProgress?.({ done, total });
      for (;;) {
        const page = await this.log.readAfter(trx, after, pageSize);
        if (page.length === 0) break;
        await this.projector.project(trx, page);
        after = page[page.length - 1]!.position;
        done += page.length;
        onProgress?.({ done, total });
      }
      return { done, total };
    });
  }

  async expiredWorkers(now: number): Promise<WorkerRecord[]> {
    return this.workers.findExpired(this.database.db, now);
  }

  async strandedTasks(limit: number, afterUuid: string | null = null): Promise<StrandedTask[]> {
    return this.tasks.findStranded(this.database.db, limit, afterUuid);
  }

  async sourceCheckpoint(source: string): Promise<SourceCheckpoint | undefined> {
    return this.checkpoints.source(this.database.db, source);
  }

  async projectionPosition(): Promise<number> {
    return this.checkpoints.projectionPosition(this.database.db, PROJECTION_NAME);
  }

  async lastPosition(): Promise<number> {
    return this.log.lastPosition(this.database.db);
  }

  async readEvents(afterPosition: number, limit: number): Promise<StoredEvent[]> {
    return this.log.readAfter(this.database.db, afterPosition, limit);
  }

  async allTasks(): Promise<TaskRecord[]> {
    return this.tasks.all(this.database.db);
  }

  async allWorkers(): Promise<WorkerRecord[]> {
    return this.workers.all(this.database.db);
  }

  async task(uuid: string): Promise<TaskRecord | undefined> {
    return this.tasks.findByUuid(this.database.db, uuid);
  }

  async worker(hostname: string): Promise<WorkerRecord | undefined> {
    return this.workers.findByHostname(this.database.db, hostname);
  }

  /** Whether this database holds an event log (its `events` table), migrated or not. */
  async hasEventLog(): Promise<boolean> {
    if (this.database.dialect === 'postgres') {
      const { rows } = await sql<{ found: boolean }>`select to_regclass('events') is not null as found`.execute(this.database.db);
      return rows[0]?.found === true;
    }
    const { rows } = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'events'`.execute(this.database.db);
    return Number(rows[0]?.n ?? 0) > 0;
  }

  /**
   * Runs statements that write (matching no row) and commits: fails where an append would, a
   * read-only database or transaction included (a `select` would not). On SQLite it takes the
   * write lock as an append does; on Postgres it does not wait for the append lock, so probes
   * never queue behind a long commit or a rebuild holding a pool connection each, but it does
   * take each table's lock as an append would.
   */
  async probeWritable(): Promise<void> {
    if (this.database.dialect === 'postgres') {
      // Every table an append writes, each locked as an append locks it: a session holding one of
      // them (LOCK TABLE, a migration) fails the probe within PROBE_LOCK_TIMEOUT_MS, naming the lock.
      await this.database.db.transaction().execute(async (trx) => {
        await sql.raw(`set local lock_timeout = ${PROBE_LOCK_TIMEOUT_MS}`).execute(trx);
        for (const table of APPEND_TABLES) await sql`delete from ${sql.table(table)} where 1 = 0`.execute(trx);
      });
      return;
    }
    await withWriteTransaction(this.database, async (trx) => {
      await sql`delete from projection_checkpoints where 1 = 0`.execute(trx);
    });
  }

  async sizeBytes(): Promise<number> {
    if (this.database.dialect === 'postgres') {
      const { rows } = await sql<{ size: number }>`select pg_database_size(current_database())::bigint as size`.execute(this.database.db);
      return Number(rows[0]?.size ?? 0);
    }
    const sqlite = this.database.sqlite!;
    const pages = sqlite.pragma('page_count', { simple: true }) as number;
    const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
    let wal = 0;
    try {
      wal = statSync(`${sqlite.name}-wal`).size;
    } catch {
      // no WAL file (in-memory database, or checkpointed and removed)
    }
    return pages * pageSize + wal;
  }

  async close(): Promise<void> {
    await this.database.close();
  }
}

function sourceCheckpoints(stored: readonly StoredEvent[]): SourceCheckpoint[] {
  const bySource = new Map<string, SourceCheckpoint>();
  for (const e of stored) {
    const cp = bySource.get(e.source);
    if (!cp) bySource.set(e.source, { source: e.source, last_received_at: e.received_at, last_position: e.position });
    else {
      if (e.received_at > cp.last_received_at) cp.last_received_at = e.received_at;
      if (e.position > cp.last_position) cp.last_position = e.position;
    }
  }
  return [...bySource.values()];
}
