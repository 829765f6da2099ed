/**
 * Baseline for the ingest benchmark, run as its own process (forked by ingest-bench.ts) so its
 * CPU time is isolated: a bare amqplib consumer that does the least any consumer must do —
 * JSON.parse each body and acknowledge — with the collector's prefetch and its acknowledgement
 * pattern (ack allUpTo once per `ackEvery` events, or after `ackDelayMs` for a partial batch).
 *
 * Input (env): BARE_URL, BARE_QUEUE, BARE_PREFETCH, BARE_ACK_EVERY, BARE_ACK_DELAY_MS,
 * BARE_EXPECTED_EVENTS, BARE_TIMEOUT_MS. Output: one IPC message (process.send) with the result.
 */
import * as amqp from 'amqplib';
import type { ConsumeMessage } from 'amqplib';
import { readFileSync } from 'node:fs';

export interface BareResult {
  ok: boolean;
  error?: string;
  events: number;
  messages: number;
  /** Epoch ms of the first delivery and of the ack that covered the last event. */
  firstAtMs: number;
  doneAtMs: number;
  /** process.cpuUsage() (user + system) from the first delivery to done, µs. */
  cpuMicros: number;
  /** VmHWM, bytes. */
  peakRssBytes: number;
}

function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
}

function vmHwmBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function main(): Promise<BareResult> {
  const url = env('BARE_URL', 'amqp://guest:guest@127.0.0.1:5672');
  const queue = env('BARE_QUEUE');
  const prefetch = Number(env('BARE_PREFETCH', '2000'));
  const ackEvery = Number(env('BARE_ACK_EVERY', '2000'));
  const ackDelayMs = Number(env('BARE_ACK_DELAY_MS', '50'));
  const expected = Number(env('BARE_EXPECTED_EVENTS'));
  const timeoutMs = Number(env('BARE_TIMEOUT_MS', '120000'));

  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(prefetch);

  let events = 0;
  let messages = 0;
  let unackedEvents = 0;
  let last: ConsumeMessage | null = null;
  let timer: NodeJS.Timeout | null = null;
  let firstAtMs = 0;
  let cpuAtFirst: NodeJS.CpuUsage | null = null;

  const result = await new Promise<BareResult>((resolve) => {
    const deadline = setTimeout(() => {
      resolve({ ok: false, error: `timed out after ${timeoutMs} ms with ${events}/${expected} events`, events, messages, firstAtMs, doneAtMs: Date.now(), cpuMicros: 0, peakRssBytes: vmHwmBytes() });
    }, timeoutMs);

    const ack = () => {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      if (last === null) return;
      channel.ack(last, true);
      last = null;
      unackedEvents = 0;
      if (events >= expected) {
        const cpu = process.cpuUsage(cpuAtFirst ?? undefined);
        clearTimeout(deadline);
        resolve({ ok: true, events, messages, firstAtMs, doneAtMs: Date.now(), cpuMicros: cpu.user + cpu.system, peakRssBytes: vmHwmBytes() });
      }
    };

    void channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        if (messages === 0) {
          firstAtMs = Date.now();
          cpuAtFirst = process.cpuUsage();
        }
        messages += 1;
        const parsed: unknown = JSON.parse(message.content.toString('utf8'));
        const n = Array.isArray(parsed) ? parsed.length : 1;
        events += n;
        unackedEvents += n;
        last = message;
        if (unackedEvents >= ackEvery || events >= expected) ack();
        else if (!timer) timer = setTimeout(ack, ackDelayMs);
      },
      { noAck: false },
    );
  });
  await channel.close().catch(() => undefined);
  await connection.close().catch(() => undefined);
  return result;
}

main().then(
  (result) => {
    process.exitCode = result.ok ? 0 : 1;
    if (process.send) process.send(result, () => process.exit());
  },
  (error: unknown) => {
    const result: BareResult = { ok: false, error: error instanceof Error ? error.message : String(error), events: 0, messages: 0, firstAtMs: 0, doneAtMs: 0, cpuMicros: 0, peakRssBytes: 0 };
    process.exitCode = 1;
    if (process.send) process.send(result, () => process.exit());
  },
);
