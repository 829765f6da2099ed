/** Every GraphQL resolver class: the API module registers them, the schema printer reads them. */
import { EventsResolver } from './events/events.resolver';
import { LiveResolver } from './live/live.resolver';
import { StatsResolver } from './stats/stats.resolver';
import { TasksResolver, WorkerTasksResolver } from './tasks/tasks.resolver';
import { WorkersResolver } from './workers/workers.resolver';

export const RESOLVERS = [WorkersResolver, LiveResolver, EventsResolver, StatsResolver, TasksResolver, WorkerTasksResolver];
