/** Queries over workers. */
import { Args, Query, Resolver } from '@nestjs/graphql';
import { WorkerFilter, WorkerModel } from './worker.model';
import { WorkersService } from './workers.service';

@Resolver(() => WorkerModel)
export class WorkersResolver {
  constructor(private readonly service: WorkersService) {}

  @Query(() => [WorkerModel], { description: 'Workers, by hostname; filter by status, source or a hostname glob.' })
  workers(@Args('filter', { type: () => WorkerFilter, nullable: true }) filter?: WorkerFilter): Promise<WorkerModel[]> {
    return this.service.list(filter ?? {});
  }

  @Query(() => WorkerModel, { nullable: true, description: 'One worker by hostname (node name), or null when never seen.' })
  worker(@Args('hostname', { type: () => String }) hostname: string): Promise<WorkerModel | null> {
    return this.service.byHostname(hostname);
  }
}
