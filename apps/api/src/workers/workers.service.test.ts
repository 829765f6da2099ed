/**
 * Medium test: the `workers(filter)` and `worker(hostname)` lookups on SQLite and Postgres, same
 * suite. Worker rows come from worker events appended through EventStore (as the collector does);
 * the service reads them on a connection of its own, as the API process does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, openDatabase, WorkerQueries, type Database, type NewEvent } from '../../../../libs/state/src';
import { event, T0 } from '../../../../test/support/event-factory';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../../test/support/test-databases';
import { WorkerStatus, type WorkerFilter } from './worker.model';
import { WorkersService } from './workers.service';

/** hostname, source, online or not: `_` and `%` are literal characters in hostnames. */
const WORKERS: Array<[string, string, boolean]> = [
  ['celery@web-1', 'rabbitmq', true],
  ['celery@web-2', 'redis', false],
  ['celery@web-12', 'rabbitmq', true],
  ['celery@db-1', 'redis', true],
  ['celery@web_1', 'rabbitmq', true],
  ['celery@web%1', 'redis', false],
  ['celery@webX1', 'rabbitmq', false],
  ['celery@WEB-3', 'rabbitmq', true],
];

/** In byte order, as the API lists workers. */
const byHostname = (hostnames: string[]) => [...hostnames].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

function workerEvents(): NewEvent[] {
  return WORKERS.flatMap(([hostname, source, online], i) => {
    const t = T0 + i;
    const alive = { hostname, freq: 2, sw_ident: 'py-celery', sw_ver: '5.2.6', sw_sys: 'Linux' };
    const events = [event({ type: 'worker-online', ...alive, timestamp: t, clock: 1 }, source), event({ type: 'worker-heartbeat', ...alive, active: 0, processed: 3, timestamp: t + 1, clock: 2 }, source)];
    if (!online) events.push(event({ type: 'worker-offline', hostname, timestamp: t + 2, clock: 3 }, source));
    return events;
  });
}

describe.each(DIALECTS)('WorkersService over WorkerQueries on %s', (dialect) => {
  let db: TestDatabase;
  let store: EventStore;
  let reader: Database;
  let service: WorkersService;

  beforeAll(async () => {
    db = createTestDatabase(dialect);
    store = await EventStore.open(db.url);
    await store.append({ events: workerEvents(), rejected: [] });
    reader = openDatabase(db.url);
    service = new WorkersService(new WorkerQueries(reader.db));
  });

  afterAll(async () => {
    await reader?.close();
    await store?.close();
    await db?.drop();
  });

  const hostnames = async (filter?: WorkerFilter) => (await service.list(filter)).map((w) => w.hostname);

  it('lists every worker by hostname (byte order) without a filter, with status and source from its events', async () => {
    expect(await hostnames()).toEqual(byHostname(WORKERS.map(([h]) => h)));
    expect(await hostnames({})).toEqual(await hostnames());
    const web2 = (await service.list()).find((w) => w.hostname === 'celery@web-2');
    expect(web2).toMatchObject({ source: 'redis', status: WorkerStatus.OFFLINE, offlineReason: 'worker-offline', swIdent: 'py-celery' });
    // web-2 is the second worker: online at T0 + 1, its heartbeat a second later.
    expect(web2?.lastStartedAt).toEqual(new Date((T0 + 1) * 1000));
    expect(web2?.lastHeartbeatAt).toEqual(new Date((T0 + 2) * 1000));
  });

  it('filters by status and by source; every given criterion must hold', async () => {
    const pick = (match: (w: (typeof WORKERS)[number]) => boolean) => byHostname(WORKERS.filter(match).map(([h]) => h));
    expect(await hostnames({ status: [WorkerStatus.ONLINE] })).toEqual(pick(([, , online]) => online));
    expect(await hostnames({ status: [WorkerStatus.OFFLINE] })).toEqual(pick(([, , online]) => !online));
    expect(await hostnames({ status: [WorkerStatus.ONLINE, WorkerStatus.OFFLINE] })).toEqual(await hostnames());
    expect(await hostnames({ source: ['redis'] })).toEqual(pick(([, source]) => source === 'redis'));
    expect(await hostnames({ source: ['redis', 'rabbitmq'] })).toEqual(await hostnames());
    expect(await hostnames({ source: ['nowhere'] })).toEqual([]);
    expect(await hostnames({ status: [WorkerStatus.OFFLINE], source: ['rabbitmq'] })).toEqual(['celery@webX1']);
    expect(await hostnames({ status: [WorkerStatus.ONLINE], source: ['redis'], hostname: 'celery@web*' })).toEqual([]);
  });

  it('filters by a hostname glob: `*` any run, `?` one character, anchored and case-sensitive', async () => {
    expect(await hostnames({ hostname: 'celery@web-*' })).toEqual(['celery@web-1', 'celery@web-12', 'celery@web-2']);
    expect(await hostnames({ hostname: 'celery@web-?' })).toEqual(['celery@web-1', 'celery@web-2']);
    expect(await hostnames({ hostname: 'celery@web?1' })).toEqual(byHostname(['celery@web-1', 'celery@web_1', 'celery@web%1', 'celery@webX1']));
    expect(await hostnames({ hostname: '*-1' })).toEqual(['celery@db-1', 'celery@web-1']);
    expect(await hostnames({ hostname: 'web-1' })).toEqual([]); // anchored: the whole hostname
    expect(await hostnames({ hostname: 'celery@WEB-*' })).toEqual(['celery@WEB-3']);
    expect(await hostnames({ hostname: 'celery@web-*', status: [WorkerStatus.ONLINE], source: ['rabbitmq'] })).toEqual(['celery@web-1', 'celery@web-12']);
  });

  it('takes `_`, `%` and regular-expression characters in a glob literally', async () => {
    expect(await hostnames({ hostname: 'celery@web_1' })).toEqual(['celery@web_1']);
    expect(await hostnames({ hostname: 'celery@web%1' })).toEqual(['celery@web%1']);
    expect(await hostnames({ hostname: 'celery@web%' })).toEqual([]);
    expect(await hostnames({ hostname: '%' })).toEqual([]);
    expect(await hostnames({ hostname: '_eler_@web-1' })).toEqual([]);
    expect(await hostnames({ hostname: 'celery@web.1' })).toEqual([]);
    expect(await hostnames({ hostname: 'celery@web-1|celery@db-1' })).toEqual([]);
  });

  it('refuses an empty glob with BAD_USER_INPUT naming the argument', async () => {
    await expect(service.list({ hostname: ' ' })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'filter.hostname' } });
  });

  it('looks one worker up by its exact hostname, null when none was stored', async () => {
    expect(await service.byHostname('celery@web_1')).toMatchObject({ hostname: 'celery@web_1', status: WorkerStatus.ONLINE, source: 'rabbitmq' });
    expect(await service.byHostname('celery@web%')).toBeNull();
    expect(await service.byHostname('celery@nowhere')).toBeNull();
  });
});
