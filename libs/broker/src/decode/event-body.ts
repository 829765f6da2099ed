/**
 * One event message body (already out of its transport envelope) → events and rejections.
 * A body is one event (a JSON object) or a `task.multi` batch (a JSON array of event objects,
 * possibly empty); each element of a batch stands or falls on its own.
 */
import { createHash } from 'node:crypto';
import type { CeleryEvent, DecodeOptions, DecodeResult, RejectedMessage, RejectionReason } from '../celery-event';
import { unsupportedContentReason } from './content-type';
import { safeJson, truncate } from './describe-value';
import { validateParsedEvent, kindOf, type EventValidation } from './event-validation';
import { rejectBytes, rejectText, type RejectionContext } from './rejection';
import { findNonFinite, markNonFiniteLiterals, unmarkedJson, type NonFiniteField } from './python-non-finite';

export interface EventBodyMeta {
  contentType: string | null;
  contentEncoding: string | null;
  routingKey: string | null;
  /** The message declared a compressed body (a `compression` header). */
  compressed: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Longest JSON parser message kept in a `not-json` detail. */
const MAX_PARSER_MESSAGE_CHARS = 200;

/**
 * Checks, in order: compression, content type, content encoding, size, UTF-8, JSON, then each
 * event. Never throws; never parses anything but JSON (pickle & co. are refused by label). Should
 * a check itself fail on some input nobody foresaw, the body is rejected as `decoder-error` with
 * the error, and the stream goes on.
 */
export function decodeEventBody(body: Buffer, meta: EventBodyMeta, opts: DecodeOptions): DecodeResult {
  try {
    return decodeChecked(body, meta, opts);
  } catch (err) {
    const detail = `the decoder failed on this body (${truncate(errorMessage(err), MAX_PARSER_MESSAGE_CHARS)}): it is kept here; please report it`;
    return rejectWhole(rejectBytes('decoder-error', detail, { routingKey: meta.routingKey, contentType: meta.contentType }, body, opts.maxRawBytes));
  }
}

function decodeChecked(body: Buffer, meta: EventBodyMeta, opts: DecodeOptions): DecodeResult {
  const ctx: RejectionContext = { routingKey: meta.routingKey, contentType: meta.contentType };

  if (meta.compressed) {
    const detail = 'body is compressed (a compression header); events are never compressed';
    return rejectWhole(rejectBytes('compressed', detail, ctx, body, opts.maxRawBytes));
  }
  const unsupported = unsupportedContentReason(meta.contentType, meta.contentEncoding);
  if (unsupported !== null) {
    return rejectWhole(rejectBytes('unsupported-content-type', unsupported, ctx, body, opts.maxRawBytes));
  }
  if (body.length > opts.maxBodyBytes) {
    return rejectWhole(
      rejectBytes('too-large', `body is ${body.length} bytes, over the limit of ${opts.maxBodyBytes}`, ctx, body, opts.maxRawBytes),
    );
  }

  let text: string;
  try {
    text = utf8.decode(body);
  } catch (err) {
    return rejectWhole(rejectBytes('not-utf8', `body is not valid UTF-8: ${errorMessage(err)}`, ctx, body, opts.maxRawBytes));
  }

  let parsed: unknown;
  let marked = false;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Python's NaN / Infinity words: parse with them marked, then reject only what held one.
    const markedText = markNonFiniteLiterals(text);
    parsed = markedText === null ? undefined : parseOrUndefined(markedText);
    if (parsed === undefined) {
      const message = truncate(errorMessage(err), MAX_PARSER_MESSAGE_CHARS);
      return rejectWhole(rejectBytes('not-json', `body is not valid JSON: ${message}`, ctx, body, opts.maxRawBytes));
    }
    marked = true;
    text = markedText!;
  }

  // A `__type__` key can only come from a literal `__type__` or from \u escapes in the text:
  // when neither occurs, the kombu walk is skipped (two native substring scans per message).
  const revive = text.indexOf('__type__') !== -1 || text.indexOf('\\u') !== -1;

  if (Array.isArray(parsed)) return decodeBatch(parsed, body, ctx, opts, revive, marked);

  const nonFinite = marked ? findNonFinite(parsed) : null;
  if (nonFinite !== null) {
    const [reason, detail] = nonFiniteRejection(nonFinite);
    return rejectWhole(rejectBytes(reason, detail, ctx, body, opts.maxRawBytes));
  }
  const result = validateParsedEvent(parsed, opts, revive);
  if (result.ok) return { events: [result.event], rejected: [] };
  const detail = typeof parsed === 'object' && parsed !== null ? result.detail : `body is ${kindOf(parsed)}, not a JSON object or array`;
  return rejectWhole(rejectBytes(result.reason, detail, ctx, body, opts.maxRawBytes));
}

function decodeBatch(items: unknown[], body: Buffer, ctx: RejectionContext, opts: DecodeOptions, revive: boolean, marked: boolean): DecodeResult {
  const events: CeleryEvent[] = [];
  const rejected: RejectedMessage[] = [];
  // The whole message stands in for an element too deep to write back: kept once per message.
  const whole = { body, kept: false };
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const nonFinite = marked ? findNonFinite(item) : null;
    if (nonFinite !== null) {
      const [reason, detail] = nonFiniteRejection(nonFinite);
      rejected.push(rejectElement(reason, `element ${i} of ${items.length}: ${detail}`, ctx, unmarkedJson(item), whole, opts));
      continue;
    }
    const result: EventValidation = validateParsedEvent(item, opts, revive);
    if (result.ok) {
      events.push(result.event);
    } else {
      const detail = `element ${i} of ${items.length}: ${result.detail}`;
      rejected.push(rejectElement(result.reason, detail, ctx, safeJson(item) ?? '', whole, opts));
    }
  }
  return { events, rejected };
}

/**
 * A rejected element of a task.multi array, its JSON as raw bytes. The first element of a message
 * too deep to be written back as JSON (`text` empty) keeps the whole message's bytes instead; later
 * ones point to it (one message must not store its bytes a hundred times).
 */
function rejectElement(
  reason: RejectionReason,
  detail: string,
  ctx: RejectionContext,
  text: string,
  whole: { body: Buffer; kept: boolean },
  opts: DecodeOptions,
): RejectedMessage {
  if (text !== '') return rejectText(reason, detail, ctx, text, opts.maxRawBytes);
  if (whole.kept) {
    // Which message: two pointers of different messages must not look like one rejection.
    const message = createHash('sha1').update(whole.body).digest('hex').slice(0, 16);
    return rejectText(reason, `${detail} (raw: see the first element of this message rejected that way; message sha1 ${message}…)`, ctx, '', opts.maxRawBytes);
  }
  whole.kept = true;
  return rejectBytes(reason, `${detail} (raw: the whole message, as this element cannot be written back as JSON)`, ctx, whole.body, opts.maxRawBytes);
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function nonFiniteRejection({ field, literal }: NonFiniteField): [RejectionReason, string] {
  const detail = `field "${field}" holds ${literal}, a number JSON cannot carry (Python's json.dumps writes it with allow_nan)`;
  return [field === 'timestamp' ? 'bad-timestamp' : 'wrong-field-type', detail];
}

function rejectWhole(rejection: RejectedMessage): DecodeResult {
  return { events: [], rejected: [rejection] };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
