/** GraphQL errors with the codes dashboard authors act on. */
import { GraphQLError } from 'graphql';

export function badUserInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argument } : {}) } });
}

/** Nothing stored under the key a top-level lookup asked for (`argument` names it). */
export function notFound(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'NOT_FOUND', ...(argument ? { argument } : {}) } });
}

/**
 * An operation over the depth or cost limit. Over HTTP pass `httpStatus` (400): Apollo answers an
 * error raised before execution with that status (else 500) and leaves it out of the body.
 */
export function queryTooComplex(message: string, httpStatus?: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', ...(httpStatus === undefined ? {} : { http: { status: httpStatus } }) } });
}

export function subscriberTooSlow(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
}
