/**
 * The `DateTime` scalar: RFC 3339 date-times with an explicit zone, strictly. Nest's default one
 * reads arguments with `new Date(value)`, which takes a zone-less string in the server's own time
 * zone, a number as epoch milliseconds (or a numeric literal as nothing at all, dropping the bound
 * silently) and rolls 30 February over to March: every one of those is an error here, with the
 * expected form in the message.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

const FORM = 'an RFC 3339 date-time with a zone, such as 2026-11-24T09:54:33Z or 2026-11-24T10:54:33.250+01:00';
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** The instant `text` names, or why it names none. */
export function parseRfc3339(text: string): { ok: true; date: Date } | { ok: false; problem: string } {
  const m = RFC3339.exec(text);
  if (!m) return { ok: false, problem: `expected ${FORM}, got ${JSON.stringify(text.slice(0, 64))}` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  if (day < 1 || day > daysInMonth) return { ok: false, problem: `${JSON.stringify(text)} is not a calendar date (month ${m[2]} has no day ${m[3]})` };
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, problem: `${JSON.stringify(text)} is not a time of day (hours 00-23, minutes and seconds 00-59)` };
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return { ok: false, problem: `${JSON.stringify(text)} has an impossible offset` };
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(utc);
  if (year < 100) date.setUTCFullYear(date.getUTCFullYear() - 1900);
  return { ok: true, date };
}

function parse(value: unknown): Date {
  if (typeof value !== 'string') {
    throw new GraphQLError(`DateTime must be a string: ${FORM}${typeof value === 'number' ? ' (not a number of seconds or milliseconds)' : ''}`);
  }
  const parsed = parseRfc3339(value);
  if (!parsed.ok) throw new GraphQLError(`invalid DateTime: ${parsed.problem}`);
  return parsed.date;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant as an RFC 3339 date-time. Returned at UTC with milliseconds (2026-11-24T09:54:33.250Z); accepted with Z or an offset (2026-11-24T10:54:33+01:00), never without a zone.',
  serialize(value) {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
    throw new GraphQLError(`DateTime cannot represent ${String(value)}`);
  },
  parseValue: parse,
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError(`DateTime must be a string: ${FORM}`);
    return parse(ast.value);
  },
});
