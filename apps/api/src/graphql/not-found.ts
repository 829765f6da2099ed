/**
 * NOT_FOUND errors of the top-level lookups (`task(uuid)`, `worker(hostname)`), with what a
 * dashboard author can check. Nested lookups (parent, root, children, workerInfo, recentTasks) stay
 * plain nulls and empty lists: a relative that was never seen is an answer, not an error.
 *
 * Stored events are never removed (there is no retention policy), so nothing stored means the
 * collector has not received an event of it.
 */
import type { GraphQLError } from 'graphql';
import { notFound } from './errors';

export function taskNotFound(uuid: string): GraphQLError {
  return notFound(
    `task ${JSON.stringify(uuid)} not found: no event of it has been stored (stored events are never removed, so the collector has not received one). ` +
      'Check the id, and that its workers send task events (celery worker -E) through a broker the collector consumes (CM_BROKERS).',
    'uuid',
  );
}

export function workerNotFound(hostname: string): GraphQLError {
  return notFound(
    `worker ${JSON.stringify(hostname)} not found: no event of it has been stored (stored events are never removed, so the collector has not received one). ` +
      'Hostnames are node names such as "celery@host" (the workers query lists every known one); check that the worker sends events (celery worker -E) through a broker the collector consumes (CM_BROKERS).',
    'hostname',
  );
}
