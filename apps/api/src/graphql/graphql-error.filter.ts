/**
 * GraphQL errors we raise on purpose (BAD_USER_INPUT, NOT_FOUND, QUERY_TOO_COMPLEX, …) are answers,
 * not failures: pass them to the client as they are, without Nest logging them as errors. Anything
 * else keeps Nest's default handling (logged, reported as an internal error).
 */
import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';

@Catch(GraphQLError)
export class GraphQLErrorFilter implements GqlExceptionFilter {
  catch(exception: GraphQLError): GraphQLError {
    return exception;
  }
}
