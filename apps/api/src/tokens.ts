/** Injection tokens of the API's providers that are not classes. */
export const API_CONFIG = Symbol('API_CONFIG');
export const DATABASE = Symbol('DATABASE');
/** ReadPool the query repositories read through (SQLite: reader threads). */
export const QUERY_READS = Symbol('QUERY_READS');
export const LOGGER = Symbol('LOGGER');
/** Optional provider of how far the subscription tail trails the log (see TailHealth). */
export const TAIL_HEALTH = Symbol('TAIL_HEALTH');

export interface TailHealth {
  /** Seconds the tail has been behind the log head, 0 when current, null before its first read. */
  lagSeconds(): number | null;
  position(): number;
}
