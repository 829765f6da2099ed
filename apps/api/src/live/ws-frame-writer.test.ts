/**
 * sendText against a real ws server and client on localhost: frames built here (every length
 * class of the header) and messages sent through ws arrive whole, as text, in the order sent; a
 * socket whose reader stops makes sends wait instead of queueing without bound.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '../../../../test/support/wait-for';
import { sendText, textFrameStart } from './ws-frame-writer';

interface Pair {
  server: WebSocket;
  client: WebSocket;
  received: Array<{ text: string; binary: boolean }>;
}

describe('sendText', () => {
  let http: Server | null = null;
  let wss: WebSocketServer | null = null;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    http = null;
    wss = null;
  });

  async function pair(): Promise<Pair> {
    http = createServer();
    wss = new WebSocketServer({ server: http });
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    const serverSide = new Promise<WebSocket>((resolve) => wss!.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    clients.push(client);
    const received: Pair['received'] = [];
    client.on('message', (data, binary) => received.push({ text: String(data), binary }));
    await new Promise((resolve) => client.once('open', resolve));
    return { server: await serverSide, client, received };
  }

  it('writes frames of every header size, and keeps them in order with messages sent through ws', async () => {
    const { server, received } = await pair();
    const payload = (n: number) => Buffer.from(`"${'x'.repeat(n)}"}`);
    const prefix = Buffer.from('{"id":"1","type":"next","payload":');
    // 125 / 126 / 65 535 / 65 536 bytes in all: every length encoding of RFC 6455.
    const sizes = [125, 126, 65_535, 65_536].map((total) => total - prefix.length - 3);
    const expected: string[] = [];
    for (const n of sizes) {
      sendText(server, { prefix, payload: payload(n) });
      expected.push(`${prefix}${payload(n)}`);
    }
    sendText(server, '{"id":"1","type":"complete"}');
    expected.push('{"id":"1","type":"complete"}');
    sendText(server, { prefix, payload: payload(1) });
    expected.push(`${prefix}${payload(1)}`);
    await waitFor(() => received.length >= expected.length || undefined, { timeoutMs: 5_000, description: 'every message' });
    expect(received.map((m) => m.text)).toEqual(expected);
    expect(received.every((m) => !m.binary)).toBe(true);
    expect(expected.slice(0, 4).map((m) => Buffer.byteLength(m))).toEqual([125, 126, 65_535, 65_536]);
  });

  it('builds the header RFC 6455 describes for each length class', () => {
    const prefix = Buffer.from('p');
    expect([...textFrameStart(5, prefix)]).toEqual([0x81, 5, 0x70]);
    expect([...textFrameStart(126, prefix)]).toEqual([0x81, 126, 0, 126, 0x70]);
    expect([...textFrameStart(65_536, prefix)]).toEqual([0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0, 0x70]);
  });

  it('makes sends wait once the socket is backed up, and they finish when the client reads again', async () => {
    const { server, client, received } = await pair();
    (client as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const prefix = Buffer.from('{"id":"1","type":"next","payload":');
    const payload = Buffer.from(`"${'y'.repeat(16 * 1024)}"}`);
    const settlesWithin = (promise: Promise<void>, ms: number) =>
      Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
    let stuck: Promise<void> | undefined;
    let sent = 0;
    // Fill the kernel's buffers turn by turn until a send stays waiting (bounded: 64 MiB).
    while (!stuck && sent * payload.length < 64 * 1024 * 1024) {
      const waited = sendText(server, { prefix, payload });
      sent += 1;
      if (waited && !(await settlesWithin(waited, 200))) stuck = waited;
    }
    expect(stuck).toBeInstanceOf(Promise);
    expect(server.bufferedAmount).toBeGreaterThan(0);
    expect(received.length).toBe(0);
    const waited = stuck!;
    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    await waited;
    await waitFor(() => received.length >= sent || undefined, { timeoutMs: 10_000, description: `${sent} messages` });
    expect(new Set(received.map((m) => m.text)).size).toBe(1);
  });
});
