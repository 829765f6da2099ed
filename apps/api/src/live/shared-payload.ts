/**
 * The JSON of a subscription result, written once for all its subscribers.
 *
 * Subscribers of the same operation receive the same result object (shared-execution.ts). But
 * graphql-ws builds and JSON.stringifies every `next` message itself, per subscriber. So our
 * `onNext` hook hands graphql-ws a small stand-in payload, `{"\u0000next":<token>}` (a key no
 * GraphQL result can have), and keeps the result's UTF-8 JSON, made once per result. When
 * graphql-ws then sends `{"id":<id>,"type":"next","payload":<stand-in>}`, `swap` returns the
 * message as parts: the subscription's own prefix and the shared payload (ws-frame-writer.ts
 * writes them as one frame).
 */
import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import type { TextParts } from './ws-frame-writer';

const STAND_IN_KEY = '\u0000next';
/** The stand-in's text up to its token: `"payload":{"\u0000next":` (graphql-ws writes payload last). */
const STAND_IN_HEAD = `"payload":{${JSON.stringify(STAND_IN_KEY)}:`;
const NEXT_INFIX = ',"type":"next","payload":';
const CLOSE_BRACE = 0x7d;
const DIGIT_0 = 0x30;

/** UTF-8 JSON of each result followed by the message's closing `}`; kept while the result lives. */
const payloadTexts = new WeakMap<ExecutionResult, Buffer>();

export function payloadText(result: ExecutionResult): Buffer {
  let text = payloadTexts.get(result);
  if (text === undefined) {
    const { errors, ...rest } = result;
    text = Buffer.from(`${JSON.stringify(errors ? { ...rest, errors: errors.map((e) => e.toJSON()) } : rest)}}`);
    payloadTexts.set(result, text);
  }
  return text;
}

/** The token of a stand-in `next` message (digits before the final `}}`), or -1. */
export function standInToken(data: string): number {
  const end = data.length - 2;
  if (end < 0 || data.charCodeAt(end) !== CLOSE_BRACE || data.charCodeAt(end + 1) !== CLOSE_BRACE) return -1;
  let token = 0;
  let scale = 1;
  let i = end - 1;
  for (; i >= 0 && i > end - 16; i -= 1) {
    const digit = data.charCodeAt(i) - DIGIT_0;
    if (digit < 0 || digit > 9) break;
    token += digit * scale;
    scale *= 10;
  }
  if (i === end - 1 || !data.startsWith(STAND_IN_HEAD, i + 1 - STAND_IN_HEAD.length)) return -1;
  return token;
}

/** One connection's payloads on their way. */
export class PayloadSwap {
  private readonly waiting = new Map<number, TextParts>();
  /** `{"id":<id>,"type":"next","payload":` per subscription id. */
  private readonly prefixes = new Map<string, Buffer>();
  private nextToken = 0;

  /** For graphql-ws's onNext: keeps the result's text for this message, returns the stand-in. */
  standIn(id: string, result: ExecutionResult): FormattedExecutionResult {
    let prefix = this.prefixes.get(id);
    if (!prefix) this.prefixes.set(id, (prefix = Buffer.from(`{"id":${JSON.stringify(id)}${NEXT_INFIX}`)));
    const token = (this.nextToken = (this.nextToken + 1) % Number.MAX_SAFE_INTEGER);
    this.waiting.set(token, { prefix, payload: payloadText(result) });
    // Not a real result: only its JSON text matters, and `swap` replaces it.
    return { [STAND_IN_KEY]: token } as unknown as FormattedExecutionResult;
  }

  /** The message to send instead of `data`: parts for a stand-in `next`, else `data` itself. */
  swap(data: string): string | TextParts {
    const token = standInToken(data);
    if (token < 0) return data;
    const parts = this.waiting.get(token);
    if (!parts) return data;
    this.waiting.delete(token);
    return parts;
  }

  /** A subscription ended: its prefix goes. */
  forget(id: string): void {
    this.prefixes.delete(id);
  }
}
