/** Queries over workers. */
import { Args, Query, Resolver } from '@nestjs/graphql';
import { workerNotFound } from '../graphql/not-found';
import { WorkerFilter, WorkerModel } from './worker.model';
import { WorkersService } from './workers.service';

@Resolver(() => WorkerModel)
export class WorkersResolver {
  constructor(private readonly service: WorkersService) {}

  @Query(() => [WorkerModel], { description: 'Workers, by hostname; filter by status, source or a hostname glob.' })
  workers(@Args('filter', { type: () => WorkerFilter, nullable: true }) filter?: WorkerFilter): Promise<WorkerModel[]> {
    return this.service.list(filter ?? {});
  }

  @Query(() => WorkerModel, {
    nullable: true,
    description: 'One worker by hostname (node name). When no event of it was stored, null with a NOT_FOUND error (extensions.code) saying so.',
  })
  async worker(@Args('hostname', { type: () => String }) hostname: string): Promise<WorkerModel | null> {
    const worker = await this.service.byHostname(hostname);
    if (worker === null) throw workerNotFound(hostname);
    return worker;
  }
}
