/** How the code-first schema is built, for the server and for `npm run schema` alike. */
import type { BuildSchemaOptions } from '@nestjs/graphql';
import { DateTimeScalar } from './graphql/date-time.scalar';

export const SCHEMA_OPTIONS: BuildSchemaOptions = {
  scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
};
