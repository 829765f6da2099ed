/**
 * Text arguments with U+0000 in them are refused before anything runs: no stored name, uuid,
 * hostname or search can hold one (the collector keeps NUL out of every text column), and
 * Postgres refuses it in a query parameter, which would otherwise surface as INTERNAL_SERVER_ERROR
 * instead of the caller's mistake.
 */
import { Kind, visit, type DocumentNode } from 'graphql';
import { badUserInput } from './errors';
import type { GraphQLError } from 'graphql';

/** Where the first string holding U+0000 is: `variable $filter.names[0]` or `a string literal in the query`; null when none. */
export function findNulText(document: DocumentNode, variables: Readonly<Record<string, unknown>> | null | undefined): string | null {
  for (const [name, value] of Object.entries(variables ?? {})) {
    const path = nulPath(value, `$${name}`, 0);
    if (path !== null) return `variable ${path}`;
  }
  let literal = false;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (node.value.includes('\u0000')) literal = true;
    },
  });
  return literal ? 'a string literal of the operation' : null;
}

/** The BAD_USER_INPUT error for a NUL found by {@link findNulText}; pass `httpStatus` (400) over HTTP. */
export function nulTextError(where: string, httpStatus?: number): GraphQLError {
  const error = badUserInput(`text arguments must not contain NUL characters (U+0000): found in ${where}`);
  if (httpStatus !== undefined) Object.assign(error.extensions, { http: { status: httpStatus } });
  return error;
}

/** Deep enough for any input type of this schema; deeper values are not walked. */
const MAX_DEPTH = 16;

function nulPath(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = nulPath(item, `${path}.${key}`, depth + 1);
    if (found !== null) return found;
  }
  return null;
}
