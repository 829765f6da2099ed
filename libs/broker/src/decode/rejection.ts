import type { RejectedMessage, RejectionReason } from '../celery-event';

/** Where a rejected message came from: copied into every RejectedMessage. */
export interface RejectionContext {
  routingKey: string | null;
  contentType: string | null;
}

/**
 * A RejectedMessage holding a private copy of at most `maxRawBytes` of `bytes` (a copy, so a
 * large body or a caller's reused buffer is never retained). `rawSize` is the full length.
 */
export function rejectBytes(
  reason: RejectionReason,
  detail: string,
  ctx: RejectionContext,
  bytes: Buffer,
  maxRawBytes: number,
): RejectedMessage {
  return build(reason, detail, ctx, bytes, maxRawBytes, false);
}

/** Same, for a text (its UTF-8 bytes). */
export function rejectText(
  reason: RejectionReason,
  detail: string,
  ctx: RejectionContext,
  text: string,
  maxRawBytes: number,
): RejectedMessage {
  return build(reason, detail, ctx, Buffer.from(text, 'utf8'), maxRawBytes, true);
}

function build(
  reason: RejectionReason,
  detail: string,
  ctx: RejectionContext,
  bytes: Buffer,
  maxRawBytes: number,
  owned: boolean,
): RejectedMessage {
  const limit = maxRawBytes > 0 ? Math.floor(maxRawBytes) : 0;
  let raw: Buffer;
  if (bytes.length > limit) raw = Buffer.from(bytes.subarray(0, limit));
  else raw = owned ? bytes : Buffer.from(bytes);
  return {
    reason,
    detail,
    routingKey: ctx.routingKey,
    contentType: ctx.contentType,
    raw,
    rawSize: bytes.length,
  };
}
