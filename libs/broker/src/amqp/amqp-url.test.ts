import { describe, expect, it } from 'vitest';
import { AmqpUrlError, parseAmqpUrl } from './amqp-url';

describe('parseAmqpUrl', () => {
  it('reads Celery\'s // as the default vhost', () => {
    expect(parseAmqpUrl('amqp://guest:guest@127.0.0.1:5672//')).toMatchObject({
      protocol: 'amqp', hostname: '127.0.0.1', port: 5672, username: 'guest', password: 'guest', vhost: '/',
    });
  });

  it('treats an empty path as the default vhost and fills default credentials', () => {
    expect(parseAmqpUrl('amqp://rabbit')).toMatchObject({ hostname: 'rabbit', port: 5672, vhost: '/', username: 'guest' });
    expect(parseAmqpUrl('amqp://rabbit/')).toMatchObject({ vhost: '/' });
  });

  it('takes IPv6 literals without their brackets (what the socket connects to)', () => {
    expect(parseAmqpUrl('amqp://guest:guest@[::1]:5672//')).toMatchObject({ hostname: '::1', port: 5672 });
  });

  it('decodes named vhosts and escaped credentials', () => {
    expect(parseAmqpUrl('pyamqp://u%40x:p%2Fw@h:1234/prod%2Fa')).toMatchObject({
      protocol: 'amqp', username: 'u@x', password: 'p/w', port: 1234, vhost: 'prod/a',
    });
    expect(parseAmqpUrl('amqps://h/v')).toMatchObject({ protocol: 'amqps', port: 5671, vhost: 'v' });
  });

  it('rejects other schemes without echoing the password', () => {
    expect(() => parseAmqpUrl('redis://u:secret@h/0')).toThrow(AmqpUrlError);
    expect(() => parseAmqpUrl('redis://u:secret@h/0')).toThrow(/redis:.*\*\*\*/);
    expect(() => parseAmqpUrl('not a url')).toThrow(/not a valid AMQP URL/);
  });
});
