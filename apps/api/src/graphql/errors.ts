/** GraphQL errors with the codes dashboard authors act on. */
import { GraphQLError } from 'graphql';

export function badUserInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argument } : {}) } });
}

export function notFound(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'NOT_FOUND' } });
}

export function queryTooComplex(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX' } });
}

export function subscriberTooSlow(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
}
