/**
 * A Redis pub/sub event message → events and rejections. The PUBLISH payload is kombu's JSON
 * envelope (`kombu/transport/virtual/base.py` `prepare_message`, `kombu/transport/redis.py`):
 *
 *   {"body": "<base64 or text>", "content-encoding": "utf-8", "content-type": "application/json",
 *    "headers": {...}, "properties": {"body_encoding": "base64",
 *    "delivery_info": {"exchange": "celeryev", "routing_key": "task.multi"}, ...}}
 */
import type { DecodeOptions, DecodeResult } from '../celery-event';
import { decodeBase64Strict } from './base64';
import { describeValue, truncate } from './describe-value';
import { decodeEventBody } from './event-body';
import { isPlainObject, kindOf } from './event-validation';
import { rejectBytes, type RejectionContext } from './rejection';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `raw` is the payload as received on `channel` (e.g. `/0.celeryev/task.multi`). The envelope may
 * be up to twice `maxBodyBytes` (base64 grows a body by a third, plus the envelope's own keys).
 */
export function decodeRedisMessage(raw: Buffer, channel: string, opts: DecodeOptions): DecodeResult {
  const channelKey = routingKeyFromChannel(channel);
  const maxEnvelope = opts.maxBodyBytes * 2;
  if (raw.length > maxEnvelope) {
    return badEnvelope(
      'too-large',
      `envelope is ${raw.length} bytes, over the limit of ${maxEnvelope} (twice the body limit)`,
      { routingKey: channelKey, contentType: null },
      raw,
      opts,
    );
  }

  let envelope: unknown;
  try {
    envelope = JSON.parse(utf8.decode(raw));
  } catch (err) {
    const what = err instanceof TypeError ? 'not valid UTF-8' : 'not valid JSON';
    const message = truncate(err instanceof Error ? err.message : String(err), 200);
    return badEnvelope('bad-envelope', `envelope is ${what}: ${message}`, { routingKey: channelKey, contentType: null }, raw, opts);
  }
  if (!isPlainObject(envelope)) {
    const detail = `envelope is ${kindOf(envelope)}, not a JSON object`;
    return badEnvelope('bad-envelope', detail, { routingKey: channelKey, contentType: null }, raw, opts);
  }

  const contentType = envelope['content-type'];
  const contentEncoding = envelope['content-encoding'];
  const properties = isPlainObject(envelope.properties) ? envelope.properties : null;
  const deliveryInfo = properties !== null && isPlainObject(properties.delivery_info) ? properties.delivery_info : null;
  const deliveredKey = deliveryInfo?.routing_key;
  const routingKey = typeof deliveredKey === 'string' && deliveredKey !== '' ? deliveredKey : channelKey;

  const ctx: RejectionContext = { routingKey, contentType: typeof contentType === 'string' ? contentType : null };
  if (!isOptionalString(contentType)) {
    return badEnvelope('bad-envelope', `envelope "content-type" must be a string, got ${describeValue(contentType)}`, ctx, raw, opts);
  }
  if (!isOptionalString(contentEncoding)) {
    const detail = `envelope "content-encoding" must be a string, got ${describeValue(contentEncoding)}`;
    return badEnvelope('bad-envelope', detail, ctx, raw, opts);
  }

  const body = envelope.body;
  if (typeof body !== 'string') {
    const detail = body === undefined ? 'envelope has no "body"' : `envelope "body" must be a string, got ${describeValue(body)}`;
    return badEnvelope('bad-envelope', detail, ctx, raw, opts);
  }

  let bodyBytes: Buffer;
  const bodyEncoding = properties?.body_encoding;
  if (bodyEncoding === 'base64') {
    const decoded = decodeBase64Strict(body);
    if (decoded === null) {
      return badEnvelope('bad-envelope', `envelope "body" is not valid base64 (${body.length} characters)`, ctx, raw, opts);
    }
    bodyBytes = decoded;
  } else {
    bodyBytes = Buffer.from(body, 'utf8');
  }

  const headers = envelope.headers;
  const compressed = isPlainObject(headers) && Boolean(headers.compression);
  return decodeEventBody(
    bodyBytes,
    { contentType: ctx.contentType, contentEncoding: contentEncoding ?? null, routingKey, compressed },
    opts,
  );
}

/**
 * The routing key kombu put in the channel name: after the last `/` of
 * `/{db}.{exchange}/{routing_key}`; null for `/{db}.{exchange}` (no routing key) or no `/`.
 */
export function routingKeyFromChannel(channel: string): string | null {
  const slash = channel.lastIndexOf('/');
  if (slash <= 0 || slash === channel.length - 1) return null;
  return channel.slice(slash + 1);
}

function isOptionalString(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || typeof value === 'string';
}

function badEnvelope(
  reason: 'bad-envelope' | 'too-large',
  detail: string,
  ctx: RejectionContext,
  raw: Buffer,
  opts: DecodeOptions,
): DecodeResult {
  return { events: [], rejected: [rejectBytes(reason, detail, ctx, raw, opts.maxRawBytes)] };
}
