/** Read queries over the workers projection (the only SQL the API runs against it). */
import type { Kysely } from 'kysely';
import type { DB } from '../schema';
import type { WorkerRecord } from '../repositories/worker.repository';

export interface WorkerListQuery {
  statuses?: readonly string[];
  sources?: readonly string[];
}

export class WorkerQueries {
  constructor(private readonly db: Kysely<DB>) {}

  async list(query: WorkerListQuery = {}): Promise<WorkerRecord[]> {
    let q = this.db.selectFrom('workers').selectAll();
    if (query.statuses?.length) q = q.where('status', 'in', [...query.statuses]);
    if (query.sources?.length) q = q.where('source', 'in', [...query.sources]);
    return q.orderBy('hostname').execute();
  }

  async byHostnames(hostnames: readonly string[]): Promise<WorkerRecord[]> {
    if (hostnames.length === 0) return [];
    return this.db.selectFrom('workers').selectAll().where('hostname', 'in', [...hostnames]).execute();
  }
}
