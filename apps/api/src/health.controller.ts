/** /healthz (alive), /readyz (database readable, log tail current), /metrics (Prometheus). */
import { Controller, Get, Header, HttpCode, Inject, Optional, Res } from '@nestjs/common';
import type { Response } from 'express';
import { sql } from 'kysely';
import type { Database } from '../../../libs/state/src';
import { ApiMetrics } from './api-metrics';
import type { ApiConfig } from './config';
import { API_CONFIG, DATABASE, TAIL_HEALTH, type TailHealth } from './tokens';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

@Controller()
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly metrics: ApiMetrics,
    @Optional() @Inject(TAIL_HEALTH) private readonly tail?: TailHealth,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res() res: Response): Promise<void> {
    const checks: Check[] = [];
    try {
      const { rows } = await sql<{ p: number | null }>`select max(position) as p from events`.execute(this.database.db);
      checks.push({ name: 'database', ok: true, detail: `readable (${this.database.description}), log head at position ${Number(rows[0]?.p ?? 0)}` });
    } catch (error) {
      checks.push({ name: 'database', ok: false, detail: `not readable: ${error instanceof Error ? error.message : String(error)}` });
    }
    if (this.tail) {
      const lag = this.tail.lagSeconds();
      const ok = lag !== null && lag <= this.config.readyMaxTailLagSeconds;
      checks.push({
        name: 'log-tail',
        ok,
        detail: lag === null ? 'the log tail has not read yet' : `tail at position ${this.tail.position()}, behind the head for ${lag.toFixed(1)} s (max ${this.config.readyMaxTailLagSeconds})`,
      });
    }
    const ready = checks.every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  }

  @Get('metrics')
  @Header('cache-control', 'no-store')
  async metricsText(@Res() res: Response): Promise<void> {
    res.setHeader('content-type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}
