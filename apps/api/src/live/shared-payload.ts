/**
 * The `next` messages of a subscription as bytes: the subscription's own prefix, then the
 * result's JSON, made once per result object whoever receives it (subscribers of the same
 * operation receive the same result object: shared-execution.ts). Together they are exactly the
 * message graphql-ws would write: `{"id":<id>,"type":"next","payload":<result>}` (tested).
 */
import type { ExecutionResult } from 'graphql';

/** UTF-8 JSON of each result followed by the message's closing `}`; kept while the result lives. */
const payloadTexts = new WeakMap<ExecutionResult, Buffer>();

export function nextPayload(result: ExecutionResult): Buffer {
  let text = payloadTexts.get(result);
  if (text === undefined) {
    // As graphql-ws sends a result: errors in their JSON form, omitted when there are none.
    const { errors, ...rest } = result;
    text = Buffer.from(`${JSON.stringify(errors ? { ...rest, errors: errors.map((e) => e.toJSON()) } : rest)}}`);
    payloadTexts.set(result, text);
  }
  return text;
}

/** `{"id":<id>,"type":"next","payload":` for subscription `id`. */
export function nextPrefix(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
}
