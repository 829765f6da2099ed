import { describe, expect, it } from 'vitest';
import { eventSubscription, fanoutChannel, redisDbFromUrl, RedisUrlError } from './redis-channels';

const defaults = { db: 0, globalKeyprefix: '', fanoutPrefix: true as boolean | string, fanoutPatterns: true };

describe('kombu Redis channel names', () => {
  it('matches kombu defaults: /{db}.celeryev/<routing key>', () => {
    expect(fanoutChannel(defaults, 'celeryev', 'task.multi')).toBe('/0.celeryev/task.multi');
    expect(fanoutChannel({ ...defaults, db: 3 }, 'celeryev', 'worker.heartbeat')).toBe('/3.celeryev/worker.heartbeat');
    expect(eventSubscription({ ...defaults, db: 3 })).toEqual({ mode: 'pattern', name: '/3.celeryev/*' });
  });

  it('uses the exchange alone for an empty routing key (pidbox broadcasts)', () => {
    expect(fanoutChannel(defaults, 'celery.pidbox', '')).toBe('/0.celery.pidbox');
  });

  it('honours global_keyprefix and fanout_prefix settings', () => {
    expect(fanoutChannel({ ...defaults, globalKeyprefix: 'app1:' }, 'celeryev', 'task.multi')).toBe('app1:/0.celeryev/task.multi');
    expect(fanoutChannel({ ...defaults, fanoutPrefix: false }, 'celeryev', 'task.multi')).toBe('celeryev/task.multi');
    expect(fanoutChannel({ ...defaults, fanoutPrefix: 'x{db}-', db: 2 }, 'celeryev', 'a')).toBe('x2-celeryev/a');
    expect(eventSubscription({ ...defaults, globalKeyprefix: 'p[1]*' })).toEqual({ mode: 'pattern', name: 'p\\[1\\]\\*/0.celeryev/*' });
  });

  it('subscribes to the bare channel when fanout_patterns is off', () => {
    expect(eventSubscription({ ...defaults, fanoutPatterns: false })).toEqual({ mode: 'channel', name: '/0.celeryev' });
    expect(fanoutChannel({ ...defaults, fanoutPatterns: false }, 'celeryev', 'task.multi')).toBe('/0.celeryev');
  });

  it('reads the database number from the URL', () => {
    expect(redisDbFromUrl('redis://127.0.0.1:6379')).toBe(0);
    expect(redisDbFromUrl('redis://:pw@127.0.0.1:6379/5')).toBe(5);
    expect(() => redisDbFromUrl('redis://h/x')).toThrow(RedisUrlError);
    expect(() => redisDbFromUrl('amqp://h/')).toThrow(/redis:\/\//);
  });
});
