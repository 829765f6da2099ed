/** Worker lookups for the API: filters the projection and maps rows to GraphQL workers. */
import { Injectable } from '@nestjs/common';
import { WorkerQueries } from '../../../../libs/state/src';
import { badUserInput } from '../graphql/errors';
import { globToRegExp } from '../graphql/scalars';
import type { WorkerFilter, WorkerModel } from './worker.model';
import { toWorkerModel } from './worker.mapper';

@Injectable()
export class WorkersService {
  constructor(private readonly queries: WorkerQueries) {}

  async list(filter: WorkerFilter = {}): Promise<WorkerModel[]> {
    if (filter.hostname !== undefined && filter.hostname.trim() === '') {
      throw badUserInput('filter.hostname must be a non-empty glob such as "celery@web-*"', 'filter.hostname');
    }
    const rows = await this.queries.list({ statuses: filter.status, sources: filter.source });
    // The glob is matched here, not in SQL: `_` and `%` in it are plain characters.
    const pattern = filter.hostname === undefined ? null : globToRegExp(filter.hostname);
    // Byte order on both dialects (a Postgres server's collation may order text otherwise).
    return rows
      .filter((r) => pattern === null || pattern.test(r.hostname))
      .sort((a, b) => Buffer.compare(Buffer.from(a.hostname), Buffer.from(b.hostname)))
      .map(toWorkerModel);
  }

  async byHostname(hostname: string): Promise<WorkerModel | null> {
    const [row] = await this.queries.byHostnames([hostname]);
    return row ? toWorkerModel(row) : null;
  }
}
