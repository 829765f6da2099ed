/** Every migration, in order. Applied by `collector migrate` and at collector start-up. */
import type { Migration } from 'kysely';
import * as m0001 from './0001_initial';

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
};
