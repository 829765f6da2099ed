/**
 * The graphql-ws (graphql-transport-ws) endpoint on the API's HTTP server: graphql-ws's protocol
 * engine (`makeServer`) over `ws` sockets, with a send path built for fan-out.
 *
 * graphql-ws's stock `ws` binding resolves every `send` only when that frame's write has
 * completed, and the engine awaits it before the next message of a subscription: one event-loop
 * round trip and one socket write (a syscall) per message per subscriber, and each message
 * JSON-stringified per subscriber. With 100 subscribers and 2,000 events/s that was 200,000
 * writes and stringifies a second. Here sends are corked per turn of the event loop and return at
 * once unless the socket is backed up (ws-frame-writer.ts), and a result's JSON is made once for
 * all its subscribers (shared-payload.ts). Nest's own graphql-ws server (its `subscriptions`
 * option) is not used; the legacy subscriptions-transport-ws protocol is refused by the engine.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppLogger } from '../../../../libs/logging/src/logger';
import { PayloadSwap } from './shared-payload';
import { sendText } from './ws-frame-writer';

/** Interval of keep-alive pings; a client that has not answered by the next one is dropped. */
export const KEEP_ALIVE_MS = 12_000;

/** What graphql-ws keeps per connection besides its own state. */
export interface ConnectionExtra {
  socket: WebSocket;
  request: IncomingMessage;
  payloads: PayloadSwap;
}

type EngineOptions = ServerOptions<Record<string, unknown> | undefined, ConnectionExtra>;

export interface GraphqlWsServerOptions {
  path: string;
  engine: Omit<EngineOptions, 'onNext' | 'onComplete'>;
  logger: AppLogger;
  keepAliveMs?: number;
}

export class GraphqlWsServer {
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols });
  private readonly engine: ReturnType<typeof makeServer<Record<string, unknown> | undefined, ConnectionExtra>>;
  private httpServer: HttpServer | null = null;

  constructor(private readonly options: GraphqlWsServerOptions) {
    this.engine = makeServer<Record<string, unknown> | undefined, ConnectionExtra>({
      ...options.engine,
      onNext: (ctx, id, _payload, _args, result) => ctx.extra.payloads.standIn(id, result),
      onComplete: (ctx, id) => ctx.extra.payloads.forget(id),
    });
    this.wss.on('connection', (socket, request) => this.opened(socket, request));
  }

  /** Takes the HTTP upgrades of `path` on this server; others are answered 404. */
  attach(httpServer: HttpServer): void {
    this.httpServer = httpServer;
    httpServer.on('upgrade', this.onUpgrade);
  }

  async close(): Promise<void> {
    this.httpServer?.off('upgrade', this.onUpgrade);
    for (const client of this.wss.clients) client.close(1001, 'Going away');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== this.options.path) {
      socket.end(`HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nWebSocket endpoint is ${this.options.path}\n`);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit('connection', ws, request));
  };

  private opened(socket: WebSocket, request: IncomingMessage): void {
    const { logger } = this.options;
    socket.once('error', (error) => {
      logger.warn({ err: error }, 'WebSocket error; closing the connection');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    const keepAliveMs = this.options.keepAliveMs ?? KEEP_ALIVE_MS;
    let alive = true;
    socket.on('pong', () => (alive = true));
    const keepAlive = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, keepAliveMs);
    const payloads = new PayloadSwap();
    const closed = this.engine.opened(
      {
        protocol: socket.protocol,
        send: (data) => sendText(socket, payloads.swap(data)),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((error: unknown) => {
              logger.error({ err: error }, 'handling a graphql-ws message failed; closing the connection');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request, payloads },
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      void closed(code, String(reason));
    });
  }
}
