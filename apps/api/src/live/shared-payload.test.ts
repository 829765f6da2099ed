/**
 * PayloadSwap: the message that leaves is, byte for byte, the one graphql-ws would have written
 * for the real result; anything that is not a stand-in `next` passes untouched.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import { stringifyMessage, MessageType } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { PayloadSwap, payloadText, standInToken } from './shared-payload';
import type { TextParts } from './ws-frame-writer';

/** What graphql-ws sends for a `next` (server.ts: errors as toJSON, omitted when absent). */
function graphqlWsNext(id: string, result: ExecutionResult): string {
  const { errors, ...rest } = result;
  return stringifyMessage({ id, type: MessageType.Next, payload: { ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) } });
}

/** What graphql-ws sends when onNext returned `standIn`. */
function sentWithStandIn(swap: PayloadSwap, id: string, result: ExecutionResult): string {
  return stringifyMessage({ id, type: MessageType.Next, payload: swap.standIn(id, result) });
}

function text(parts: string | TextParts): string {
  return typeof parts === 'string' ? parts : Buffer.concat([parts.prefix, parts.payload]).toString('utf8');
}

describe('PayloadSwap', () => {
  const results: ExecutionResult[] = [
    { data: { events: { position: 7, payload: { hostname: 'celery@w1', note: 'naïve “quotes” \\ and \u0000' } } } },
    { data: null, errors: [new GraphQLError('boom', { path: ['events'], extensions: { code: 'SUBSCRIBER_TOO_SLOW' } })] },
    { data: { events: null }, extensions: { cost: 3 } },
  ];
  const ids = ['1', 'a5b9c3e0-0a1f-4c2e-9d3b-6f0f2b1c7e11', 'with "quotes" and \\ backslash', 'ünïcödé'];

  it('turns a stand-in message back into exactly what graphql-ws would have sent', () => {
    for (const id of ids) {
      for (const result of results) {
        const swap = new PayloadSwap();
        expect(text(swap.swap(sentWithStandIn(swap, id, result)))).toBe(graphqlWsNext(id, result));
      }
    }
  });

  it('keeps the ids of interleaved subscriptions on one connection apart', () => {
    const swap = new PayloadSwap();
    const a = sentWithStandIn(swap, 'a', results[0]!);
    const b = sentWithStandIn(swap, 'b', results[2]!);
    expect(text(swap.swap(b))).toBe(graphqlWsNext('b', results[2]!));
    expect(text(swap.swap(a))).toBe(graphqlWsNext('a', results[0]!));
  });

  it('shares one payload buffer between subscribers of the same result', () => {
    const [one, two] = [new PayloadSwap(), new PayloadSwap()];
    const p1 = one.swap(sentWithStandIn(one, '1', results[0]!)) as TextParts;
    const p2 = two.swap(sentWithStandIn(two, '9', results[0]!)) as TextParts;
    expect(p1.payload).toBe(p2.payload);
    expect(p1.payload).toBe(payloadText(results[0]!));
  });

  it('passes every other message through, including a next it holds no payload for', () => {
    const swap = new PayloadSwap();
    const others = [
      stringifyMessage({ type: MessageType.ConnectionAck }),
      stringifyMessage({ id: '1', type: MessageType.Complete }),
      stringifyMessage({ id: '1', type: MessageType.Error, payload: [new GraphQLError('bad').toJSON()] }),
      graphqlWsNext('1', results[0]!),
      stringifyMessage({ id: '1', type: MessageType.Next, payload: { '\u0000next': 41 } as never }),
    ];
    for (const message of others) expect(swap.swap(message)).toBe(message);
  });

  it('reads the token only from the stand-in at the very end of the message', () => {
    expect(standInToken('{"id":"1","type":"next","payload":{"\\u0000next":1234}}')).toBe(1234);
    expect(standInToken('{"id":"1","type":"next","payload":{"\\u0000next":}}')).toBe(-1);
    expect(standInToken('{"id":"1","type":"next","payload":{"data":{"n":12}}}')).toBe(-1);
    expect(standInToken('{"id":"1","type":"next","payload":{"x\\u0000next":12}}')).toBe(-1);
    expect(standInToken('}}')).toBe(-1);
    expect(standInToken('')).toBe(-1);
  });

  it('forgets what a finished subscription left', () => {
    const swap = new PayloadSwap();
    const message = sentWithStandIn(swap, '1', results[0]!);
    swap.forget('1');
    // The message in flight still goes out whole; only the cached prefix is dropped.
    expect(text(swap.swap(message))).toBe(graphqlWsNext('1', results[0]!));
  });
});
