/** /healthz (alive), /readyz (sources connected, database writable, lag bounded), /metrics. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface HttpHandlers {
  readiness(): Promise<ReadinessCheck[]>;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export class CollectorHttpServer {
  private server: Server | null = null;

  constructor(private readonly handlers: HttpHandlers) {}

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => void this.route(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'application/json', JSON.stringify({ error: 'use GET' }));
      if (path === '/healthz') return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
      if (path === '/readyz') {
        const checks = await this.handlers.readiness();
        const ready = checks.every((c) => c.ok);
        return send(res, ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }));
      }
      if (path === '/metrics') {
        const { contentType, body } = await this.handlers.metrics();
        return send(res, 200, contentType, body);
      }
      return send(res, 404, 'application/json', JSON.stringify({ error: `no such endpoint ${path}: use /healthz, /readyz or /metrics` }));
    } catch (error) {
      return send(res, 500, 'application/json', JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    }
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
