/**
 * The API benchmark's graphql-ws subscribers, in their own process (forked by api-bench.ts) so
 * that parsing their messages does not disturb the publisher's pacing.
 *
 * The bench may fork several of these, each with its share of the subscribers, as a stand-in for
 * subscribers on machines of their own: one thread parsing every message of 100 clients queues
 * them behind each other, which no real client would see.
 *
 * Input (env): SUB_WS_URL, SUB_COUNT (subscribers in this process), SUB_FIRST (global index of the
 * first: only the process holding subscriber 0 records the split at the collector), SUB_RUN (the
 * bench_run marker of this run's events).
 * IPC (serialization 'advanced'): parent sends {cmd:'status'} → {type:'status', connected, warm,
 * delivered[]}; {cmd:'finish'} → SubscriberProcessReport. Latency of a delivery = (timeOrigin +
 * now) − bench_sent_at.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { nearestRank, type SubscriberProcessReport } from './subscriber-results';

const url = process.env.SUB_WS_URL!;
const count = Number(process.env.SUB_COUNT ?? '100');
const first = Number(process.env.SUB_FIRST ?? '0');
const run = process.env.SUB_RUN!;

/** SUB_MODE: `events` (one message per event) or `batches` (eventBatches: every waiting event per message). */
const mode = process.env.SUB_MODE === 'events' ? 'events' : 'batches';
const QUERY =
  mode === 'events'
    ? 'subscription Bench($filter: EventFilter) { events(filter: $filter) { position receivedAt payload } }'
    : 'subscription Bench($filter: EventFilter) { eventBatches(filter: $filter) { events { position receivedAt payload } lastPosition } }';
type BenchEvent = { position: number; receivedAt: string; payload: Record<string, unknown> };
const clients: Client[] = [];
const delivered = new Array<number>(count).fill(0);
const duplicates = new Array<number>(count).fill(0);
const outOfOrder = new Array<number>(count).fill(0);
const lastSeq = new Array<number>(count).fill(-1);
const warm = new Array<boolean>(count).fill(false);
const errors: string[] = [];
let connected = 0;
// Latencies of measured deliveries, per subscriber (ms).
const latencies: Float64Array[] = [];
/** Per event (first subscriber only, it sees them all): publish → collector receipt, and collector receipt → delivery. */
const toCollector: number[] = [];
const fromCollector: number[] = [];
/** Deliveries of the warm-up events (published at the full rate before the measured ones): latency, ms. */
const warmupLatencies: number[] = [];
const capacity = Number(process.env.SUB_EXPECTED ?? '40000') + 1000;
const loop = monitorEventLoopDelay({ resolution: 10 });
const cpuStart = process.cpuUsage();

for (let i = 0; i < count; i++) {
  latencies.push(new Float64Array(capacity));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    on: {
      connected: () => {
        connected += 1;
      },
      error: (e) => {
        errors.push(`client ${first + i}: ${e instanceof Error ? e.message : JSON.stringify(e)}`);
      },
    },
  });
  clients.push(client);
  const onEvent = (e: BenchEvent | undefined, now: number) => {
    const p = e?.payload;
    if (!p || p.bench_run !== run) return;
    if (p.bench_warmup === true) {
      warm[i] = true;
      return;
    }
    if (p.bench_phase === 'warmup') {
      warmupLatencies.push(now - Number(p.bench_sent_at));
      return;
    }
    const seq = Number(p.bench_seq);
    if (seq <= lastSeq[i]!) {
      if (seq === lastSeq[i]) duplicates[i]! += 1;
      else outOfOrder[i]! += 1;
    }
    lastSeq[i] = Math.max(lastSeq[i]!, seq);
    const n = delivered[i]!;
    if (n < capacity) latencies[i]![n] = now - Number(p.bench_sent_at);
    if (first + i === 0) {
      const receivedAt = Date.parse(e!.receivedAt);
      toCollector.push(receivedAt - Number(p.bench_sent_at));
      fromCollector.push(now - receivedAt);
    }
    delivered[i] = n + 1;
  };
  client.subscribe<{ events?: BenchEvent; eventBatches?: { events: BenchEvent[]; lastPosition: number } }>(
    { query: QUERY, variables: { filter: { types: ['worker-heartbeat'] } } },
    {
      next: (msg) => {
        const now = performance.timeOrigin + performance.now();
        if (mode === 'events') onEvent(msg.data?.events, now);
        else for (const e of msg.data?.eventBatches?.events ?? []) onEvent(e, now);
      },
      error: (e) => errors.push(`subscriber ${first + i}: ${e instanceof Error ? e.message : JSON.stringify(e)}`),
      complete: () => undefined,
    },
  );
}
loop.enable();

function vmHwmBytes(): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const m = /VmHWM:\s+(\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8') as string);
  return m ? Number(m[1]) * 1024 : 0;
}

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'status') {
    process.send!({ type: 'status', connected, warm: warm.filter(Boolean).length, delivered });
    return;
  }
  if (m.cmd === 'finish') {
    loop.disable();
    const total = delivered.reduce((a, b) => a + Math.min(b, capacity), 0);
    const all = new Float64Array(total);
    let off = 0;
    const p99s: number[] = [];
    for (let i = 0; i < count; i++) {
      const n = Math.min(delivered[i]!, capacity);
      const mine = latencies[i]!.slice(0, n).sort();
      p99s.push(nearestRank(mine, 99));
      all.set(mine, off);
      off += n;
    }
    all.sort();
    const cpu = process.cpuUsage(cpuStart);
    const report: SubscriberProcessReport = {
      type: 'result',
      delivered,
      duplicates,
      outOfOrder,
      p99s,
      errors: errors.slice(0, 20),
      latencies: all,
      warmupLatencies: Float64Array.from(warmupLatencies).sort(),
      toCollector,
      fromCollector,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      cpuMicros: cpu.user + cpu.system,
      peakRssBytes: vmHwmBytes(),
    };
    void Promise.all(clients.map((c) => c.dispose())).finally(() => process.send!(report, () => process.exit(0)));
  }
});
