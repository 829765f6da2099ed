/**
 * Paced publisher for the Redis loss test: PUBLISHes a workload on kombu's event channels
 * (`/{db}.celeryev/<routing_key>`, kombu's JSON envelope with a base64 body) at a steady number
 * of events per second. Envelopes are encoded before the clock starts; pacing is hrtime-based:
 * every ~1 ms tick publishes whole messages until the events sent catch up with rate × elapsed.
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { pythonJson, type WorkloadMessage } from './workload';

export interface EncodedMessage {
  channel: string;
  payload: Buffer;
  events: number;
}

/** kombu's Redis envelope (kombu/transport/redis.py), as Python's json.dumps writes it. */
export function kombuEventEnvelope(db: number, m: WorkloadMessage): EncodedMessage {
  const envelope = {
    body: m.body.toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: { hostname: m.hostname },
    properties: {
      delivery_mode: 1,
      delivery_info: { exchange: 'celeryev', routing_key: m.routingKey },
      priority: 0,
      body_encoding: 'base64',
      delivery_tag: randomUUID(),
    },
  };
  return { channel: `/${db}.celeryev/${m.routingKey}`, payload: Buffer.from(pythonJson(envelope), 'utf8'), events: m.events };
}

export interface PacedPublishResult {
  events: number;
  messages: number;
  /** From the first PUBLISH to the last one, s. */
  seconds: number;
  /** events / seconds. */
  achievedRate: number;
  /** Largest shortfall behind the schedule seen at a tick, in events. */
  maxBehindEvents: number;
  /** Epoch ms of the first and the last PUBLISH. */
  startedAtMs: number;
  endedAtMs: number;
}

export async function publishPaced(redis: Redis, messages: readonly EncodedMessage[], eventsPerSecond: number): Promise<PacedPublishResult> {
  const pending: Array<Promise<unknown>> = [];
  const start = process.hrtime.bigint();
  const startedAtMs = Date.now();
  let sent = 0;
  let i = 0;
  let maxBehind = 0;
  let lastPublishNs = start;
  // Bounded: ends when every message is out; each tick sleeps ≈ 1 ms.
  const maxTicks = Math.ceil(((messages.reduce((n, m) => n + m.events, 0) / eventsPerSecond) * 1000 + 10_000) * 2);
  for (let tick = 0; i < messages.length && tick < maxTicks; tick++) {
    const now = process.hrtime.bigint();
    const due = (Number(now - start) / 1e9) * eventsPerSecond;
    maxBehind = Math.max(maxBehind, due - sent);
    while (i < messages.length && sent < due) {
      const m = messages[i]!;
      pending.push(redis.publish(m.channel, m.payload));
      sent += m.events;
      i += 1;
      lastPublishNs = process.hrtime.bigint();
    }
    await new Promise<void>((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const seconds = Number(lastPublishNs - start) / 1e9;
  return {
    events: sent,
    messages: i,
    seconds,
    achievedRate: seconds > 0 ? sent / seconds : 0,
    maxBehindEvents: Math.max(0, Math.round(maxBehind)),
    startedAtMs,
    endedAtMs: startedAtMs + seconds * 1000,
  };
}
