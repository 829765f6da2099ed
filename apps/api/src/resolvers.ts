/** Every GraphQL resolver class: the API module registers them, the schema printer reads them. */
import { WorkersResolver } from './workers/workers.resolver';

export const RESOLVERS = [WorkersResolver];
