/**
 * The graphql-ws (graphql-transport-ws) endpoint on the API's HTTP server: graphql-ws's protocol
 * engine (`makeServer`) over `ws` sockets, with a send path built for fan-out.
 *
 * graphql-ws's stock `ws` binding resolves every `send` only when that frame's write has
 * completed, and the engine awaits it before the next message of a subscription: one event-loop
 * round trip and one socket write (a syscall) per message per subscriber, and each message
 * JSON-stringified per subscriber. With 100 subscribers and 2,000 events/s that was 200,000
 * writes and stringifies a second. Here a subscription's results go straight to its socket
 * (direct-delivery.ts): each result's JSON is made once for all its subscribers (shared-payload.ts),
 * framed with the subscription's id, and each socket's frames leave in one write per turn of the
 * event loop, waiting only when the socket is backed up (ws-frame-writer.ts). graphql-ws keeps the
 * protocol: connection, subscribe, validation and limits (onSubscribe), errors and completion.
 * Nest's own graphql-ws server (its `subscriptions` option) is not used; the legacy
 * subscriptions-transport-ws protocol is refused by the engine.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppLogger } from '../../../../libs/logging/src/logger';
import { deliverDirectly } from './direct-delivery';
import { nextPayload, nextPrefix } from './shared-payload';
import { sendText } from './ws-frame-writer';

/** How long clients get to answer the close frame at shutdown before their sockets are dropped. */
const CLOSE_GRACE_MS = 1_500;

/** Interval of keep-alive pings; a client that has not answered by the next one is dropped. */
export const KEEP_ALIVE_MS = 12_000;

/** What graphql-ws keeps per connection besides its own state. */
export interface ConnectionExtra {
  socket: WebSocket;
  request: IncomingMessage;
}

type EngineOptions = ServerOptions<Record<string, unknown> | undefined, ConnectionExtra>;

export interface GraphqlWsServerOptions {
  path: string;
  /** graphql-ws's options; onSubscribe must return the execution arguments (or errors) itself. */
  engine: EngineOptions & Required<Pick<EngineOptions, 'onSubscribe' | 'subscribe'>>;
  logger: AppLogger;
  keepAliveMs?: number;
}

export class GraphqlWsServer {
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols });
  private readonly engine: ReturnType<typeof makeServer<Record<string, unknown> | undefined, ConnectionExtra>>;
  private httpServer: HttpServer | null = null;

  constructor(private readonly options: GraphqlWsServerOptions) {
    const { onSubscribe, subscribe } = options.engine;
    /** Where each subscription's results go, by its execution arguments (graphql-ws passes the same object on). */
    const targets = new WeakMap<ExecutionArgs, { socket: WebSocket; id: string }>();
    this.engine = makeServer<Record<string, unknown> | undefined, ConnectionExtra>({
      ...options.engine,
      onSubscribe: async (ctx, id, payload) => {
        const args = await onSubscribe(ctx, id, payload);
        if (args && !Array.isArray(args)) targets.set(args as ExecutionArgs, { socket: ctx.extra.socket, id });
        return args;
      },
      subscribe: async (args) => {
        const results = await subscribe(args);
        const target = targets.get(args);
        if (!target || !(Symbol.asyncIterator in results)) return results;
        const prefix = nextPrefix(target.id);
        return deliverDirectly(results as AsyncIterableIterator<ExecutionResult>, (result) => sendText(target.socket, { prefix, payload: nextPayload(result) }));
      },
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
    // A client that does not read cannot complete the close handshake: after a short grace its
    // socket is dropped, so the API stops within seconds (not ws's 30 s close timeout).
    const grace = setTimeout(() => {
      for (const client of this.wss.clients) client.terminate();
    }, CLOSE_GRACE_MS);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    clearTimeout(grace);
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
    const closed = this.engine.opened(
      {
        protocol: socket.protocol,
        send: (data) => sendText(socket, data),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((error: unknown) => {
              logger.error({ err: error }, 'handling a graphql-ws message failed; closing the connection');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      void closed(code, String(reason));
    });
  }
}
