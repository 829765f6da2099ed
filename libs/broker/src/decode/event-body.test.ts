import { describe, expect, it } from 'vitest';
import type { DecodeResult, RejectedMessage } from '../celery-event';
import { decodeEventBody, type EventBodyMeta } from './event-body';
import { EVENTS, EVENT_TYPES, OPTS, TS, jsonBytes, routingKeyFor, taskBatch } from './test-fixtures';

const META: EventBodyMeta = { contentType: 'application/json', contentEncoding: 'utf-8', routingKey: 'task.multi', compressed: false };

function decode(body: Buffer | string, meta: Partial<EventBodyMeta> = {}, opts = OPTS): DecodeResult {
  return decodeEventBody(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, { ...META, ...meta }, opts);
}

/** The single rejection of a whole-message failure, with the invariants every rejection keeps. */
function onlyRejection(result: DecodeResult, body: Buffer | string, meta: Partial<EventBodyMeta> = {}, opts = OPTS): RejectedMessage {
  expect(result.events).toEqual([]);
  expect(result.rejected).toHaveLength(1);
  const r = result.rejected[0]!;
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const m = { ...META, ...meta };
  expect(r.routingKey).toBe(m.routingKey);
  expect(r.contentType).toBe(m.contentType);
  expect(r.rawSize).toBe(bytes.length);
  expect(r.raw.length).toBe(Math.min(bytes.length, opts.maxRawBytes));
  expect(r.raw.equals(bytes.subarray(0, opts.maxRawBytes))).toBe(true);
  return r;
}

describe("decodeEventBody: Python's NaN / Infinity (json.dumps allow_nan)", () => {
  const started = JSON.stringify(EVENTS['task-started']);

  it('a single event with timestamp NaN is bad-timestamp, kept whole, not not-json', () => {
    const text = '{"type": "task-succeeded", "hostname": "w1@lab", "uuid": "u", "timestamp": NaN}';
    const r = onlyRejection(decode(text), text);
    expect(r.reason).toBe('bad-timestamp');
    expect(r.detail).toBe(`field "timestamp" holds NaN, a number JSON cannot carry (Python's json.dumps writes it with allow_nan)`);
  });

  it('one element of a task.multi with Infinity is rejected alone; the others are events', () => {
    const bad = `{"type": "task-succeeded", "hostname": "w1@lab", "uuid": "u", "timestamp": ${TS}, "runtime": Infinity}`;
    const result = decode(`[${started}, ${bad}, ${started.replace('"clock":', '"clock": 1, "x":')}]`);
    expect(result.events).toHaveLength(2);
    expect(result.rejected).toHaveLength(1);
    const [r] = result.rejected;
    expect(r!.reason).toBe('wrong-field-type');
    expect(r!.detail).toMatch(/^element 1 of 3: field "runtime" holds Infinity, /);
    expect(r!.raw.toString()).toBe(`{"type":"task-succeeded","hostname":"w1@lab","uuid":"u","timestamp":${TS},"runtime":Infinity}`);
  });

  it('finds -Infinity nested in a field (loadavg) and leaves the words inside strings alone', () => {
    const bad = `{"type": "worker-heartbeat", "hostname": "w1@lab", "timestamp": ${TS}, "note": "NaN \\" Infinity", "loadavg": [0.5, -Infinity, 0.1]}`;
    const good = `{"type": "worker-heartbeat", "hostname": "w2@lab", "timestamp": ${TS}, "note": "a \\"NaN\\" in a string"}`;
    const result = decode(`[${good}, ${bad}]`);
    expect(result.events.map((e) => e.hostname)).toEqual(['w2@lab']);
    expect(result.events[0]!.fields['note']).toBe('a "NaN" in a string');
    expect(result.rejected[0]!.detail).toMatch(/^element 1 of 2: field "loadavg" holds -Infinity, /);
    expect(result.rejected[0]!.raw.toString()).toContain('"note":"NaN \\" Infinity","loadavg":[0.5,-Infinity,0.1]');
  });
});

describe('decodeEventBody: one event per message', () => {
  it.each(EVENT_TYPES)('%s as a single JSON object', (type) => {
    const result = decode(jsonBytes(EVENTS[type]), { routingKey: routingKeyFor(type) });
    expect(result.rejected).toEqual([]);
    expect(result.events).toHaveLength(1);
    expect(result.events[0]!.type).toBe(type);
    expect(result.events[0]!.fields).toEqual(EVENTS[type]);
  });

  it('parses the captured Python json.dumps output (spaces after separators)', () => {
    const body =
      '{"hostname": "w1@lab", "utcoffset": 0, "pid": 7990, "clock": 17, "uuid": "c39d6788-3f60-4ccb-b9ba-e171b5f57cc9", "result": "5", "runtime": 0.00029, "timestamp": 1795486235.8666906, "type": "task-succeeded"}';
    const [event] = decode(body, { routingKey: 'task.succeeded' }).events;
    expect(event).toMatchObject({ type: 'task-succeeded', hostname: 'w1@lab', timestamp: 1795486235.8666906, clock: 17 });
  });

  it('keeps non-ASCII text written with \\u escapes (Python ensure_ascii)', () => {
    const body = '{"type": "task-received", "hostname": "w1@lab", "timestamp": 1795486235.8, "uuid": "u1", "args": "(\'caf\\u00e9\',)"}';
    expect(decode(body).events[0]!.fields.args).toBe("('café',)");
  });
});

describe('decodeEventBody: task.multi batches', () => {
  it('decodes a 24-event batch in order', () => {
    const batch = taskBatch(24);
    const result = decode(jsonBytes(batch));
    expect(result.rejected).toEqual([]);
    expect(result.events.map((e) => e.fields)).toEqual(batch);
    expect(result.events.map((e) => e.clock)).toEqual(batch.map((e) => e.clock));
  });

  it('decodes every event type in one batch', () => {
    const all = EVENT_TYPES.map((t) => EVENTS[t]!);
    const result = decode(jsonBytes(all));
    expect(result.rejected).toEqual([]);
    expect(result.events.map((e) => e.type)).toEqual(EVENT_TYPES);
  });

  it('an empty array is zero events and zero rejections', () => {
    expect(decode('[]')).toEqual({ events: [], rejected: [] });
    expect(decode(' [ ]\n')).toEqual({ events: [], rejected: [] });
  });

  it('rejects bad elements one by one and keeps the good ones, in order', () => {
    const good1 = EVENTS['task-received']!;
    const good2 = EVENTS['task-succeeded']!;
    const noUuid = { ...EVENTS['task-started']!, uuid: undefined };
    const badClock = { ...EVENTS['task-failed']!, clock: 'x' };
    const body = jsonBytes([good1, 'oops', noUuid, good2, 42, null, [good1], badClock, { ...good2, timestamp: -1 }]);
    const result = decode(body);
    expect(result.events.map((e) => e.fields)).toEqual([good1, good2]);
    expect(result.rejected.map((r) => [r.reason, r.detail])).toEqual([
      ['not-an-object', 'element 1 of 9: expected a JSON object, got a string ("oops")'],
      ['missing-field', 'element 2 of 9: missing field "uuid" (required for task-started)'],
      ['not-an-object', 'element 4 of 9: expected a JSON object, got a number (42)'],
      ['not-an-object', 'element 5 of 9: expected a JSON object, got null'],
      ['not-an-object', expect.stringMatching(/^element 6 of 9: expected a JSON object, got an array/)],
      ['wrong-field-type', 'element 7 of 9: field "clock" must be a non-negative integer up to 9007199254740991, got "x"'],
      ['bad-timestamp', expect.stringMatching(/^element 8 of 9: field "timestamp" is out of range: got -1/)],
    ]);
    // Each rejection's raw is that element alone, re-serialized.
    expect(result.rejected.map((r) => r.raw.toString('utf8'))).toEqual([
      '"oops"',
      JSON.stringify(noUuid),
      '42',
      'null',
      JSON.stringify([good1]),
      JSON.stringify(badClock),
      JSON.stringify({ ...good2, timestamp: -1 }),
    ]);
    for (const r of result.rejected) {
      expect(r.rawSize).toBe(r.raw.length);
      expect(r.routingKey).toBe('task.multi');
      expect(r.contentType).toBe('application/json');
    }
  });

  it('bounds the raw of a rejected element to maxRawBytes', () => {
    const big = { ...EVENTS['task-failed']!, clock: -5, traceback: 'é'.repeat(5000) };
    const opts = { ...OPTS, maxRawBytes: 100 };
    const result = decode(jsonBytes([EVENTS['task-started'], big]), {}, opts);
    expect(result.events).toHaveLength(1);
    const [r] = result.rejected;
    const full = jsonBytes(big);
    expect(r!.rawSize).toBe(full.length);
    expect(r!.raw.length).toBe(100);
    expect(r!.raw.equals(full.subarray(0, 100))).toBe(true);
  });

  it('an element with timestamp 1e400 (Infinity) is bad-timestamp (and re-serializes as null)', () => {
    const text = `[${JSON.stringify(EVENTS['task-started'])}, {"type": "task-succeeded", "hostname": "w1@lab", "uuid": "u", "timestamp": 1e400}]`;
    const result = decode(text);
    expect(result.events).toHaveLength(1);
    expect(result.rejected[0]!.reason).toBe('bad-timestamp');
    expect(result.rejected[0]!.detail).toMatch(/must be a finite number: got Infinity/);
    expect(result.rejected[0]!.raw.toString()).toContain('"timestamp":null');
  });
});

describe('decodeEventBody: kombu __type__ values', () => {
  it('decodes kombu >= 5.3 tagged values in a batch', () => {
    const body = JSON.stringify([
      {
        ...EVENTS['task-received'],
        uuid: { __type__: 'uuid', __value__: { hex: 'c39d67883f604ccbb9bae171b5f57cc9', version: 4 } },
        eta: { __type__: 'datetime', __value__: '2026-11-23T10:00:00+00:00' },
        expires: { __type__: 'datetime', __value__: '2026-11-24T10:00:00' },
        price: { __type__: 'decimal', __value__: '19.99' },
        blob: { __type__: 'bytes', __value__: 'raw text' },
        bin: { __type__: 'base64', __value__: '//79/A==' },
        day: { __type__: 'date', __value__: '2026-11-23' },
        at: { __type__: 'time', __value__: '10:00:00' },
        money: { __type__: 'myapp.Money', __value__: '1 EUR' },
      },
    ]);
    const [event] = decode(body).events;
    expect(event!.uuid).toBe('c39d6788-3f60-4ccb-b9ba-e171b5f57cc9');
    expect(event!.fields).toMatchObject({
      eta: '2026-11-23T10:00:00+00:00',
      expires: '2026-11-24T10:00:00',
      price: '19.99',
      blob: 'raw text',
      bin: '//79/A==',
      day: '2026-11-23',
      at: '10:00:00',
      money: { __type__: 'myapp.Money', __value__: '1 EUR' },
    });
  });

  it('finds a __type__ key written with \\u escapes', () => {
    const body = `{"type": "task-received", "hostname": "w1@lab", "timestamp": ${TS}, "uuid": "u1", "eta": {"\\u005f_type__": "datetime", "__value__": "2026-11-23T10:00:00"}}`;
    expect(decode(body).events[0]!.fields.eta).toBe('2026-11-23T10:00:00');
  });

  it('a typed value of the wrong type is wrong-field-type', () => {
    const body = JSON.stringify({ ...EVENTS['task-received'], eta: { __type__: 'myapp.Thing', __value__: 1 } });
    const r = onlyRejection(decode(body), body);
    expect(r.reason).toBe('wrong-field-type');
    expect(r.detail).toBe('field "eta" must be a string, got {"__type__":"myapp.Thing","__value__":1}');
  });

  it('kombu 5.2 plain ISO strings pass through', () => {
    const body = JSON.stringify(EVENTS['task-received']);
    expect(decode(body).events[0]!.fields.eta).toBe('2026-11-23T10:00:00.000000+00:00');
  });
});

describe('decodeEventBody: rejections of the whole message', () => {
  const body = jsonBytes([EVENTS['task-succeeded']]);

  it('compressed: checked first, even before the content type', () => {
    const r = onlyRejection(decode(body, { compressed: true, contentType: 'application/x-python-serialize' }), body, {
      compressed: true,
      contentType: 'application/x-python-serialize',
    });
    expect(r.reason).toBe('compressed');
    expect(r.detail).toMatch(/compress/);
  });

  describe('content types', () => {
    it.each([null, '', 'application/json', 'APPLICATION/JSON', 'Application/Json', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/json ; charset=utf8'])(
      'accepts %j',
      (contentType) => {
        const result = decode(body, { contentType });
        expect(result.rejected).toEqual([]);
        expect(result.events).toHaveLength(1);
      },
    );

    it.each([
      ['application/x-python-serialize', /pickle is never deserialized/],
      ['APPLICATION/X-PYTHON-SERIALIZE', /pickle is never deserialized/],
      ['application/x-yaml', /only application\/json/],
      ['application/x-msgpack', /only application\/json/],
      ['application/data', /only application\/json/],
      ['text/plain', /only application\/json/],
      ['application/jsonx', /only application\/json/],
      ['application/json; charset=latin-1', /unsupported charset/],
    ])('refuses %j as unsupported-content-type', (contentType, detail) => {
      const r = onlyRejection(decode(body, { contentType }), body, { contentType });
      expect(r.reason).toBe('unsupported-content-type');
      expect(r.detail).toMatch(detail);
      expect(r.detail).toContain(JSON.stringify(contentType));
    });

    it('never parses a pickle body, even one that happens to be valid JSON', () => {
      // A real pickle (protocol 4) of {'type': 'worker-heartbeat'} …
      const pickle = Buffer.from('gASVHgAAAAAAAAB9lIwEdHlwZZSMEHdvcmtlci1oZWFydGJlYXSUcy4=', 'base64');
      const r = onlyRejection(decode(pickle, { contentType: 'application/x-python-serialize', contentEncoding: 'binary' }), pickle, {
        contentType: 'application/x-python-serialize',
      });
      expect(r.reason).toBe('unsupported-content-type');
      // … and a JSON event labelled as pickle.
      const labelled = decode(body, { contentType: 'application/x-python-serialize' });
      expect(labelled.events).toEqual([]);
      expect(labelled.rejected[0]!.reason).toBe('unsupported-content-type');
    });

    it.each([null, '', 'utf-8', 'UTF-8', 'utf8', 'UTF8'])('accepts content encoding %j', (contentEncoding) => {
      expect(decode(body, { contentEncoding }).events).toHaveLength(1);
    });

    it.each(['binary', 'latin-1', 'gzip', 'utf-16'])('refuses content encoding %j', (contentEncoding) => {
      const r = onlyRejection(decode(body, { contentEncoding }), body);
      expect(r.reason).toBe('unsupported-content-type');
      expect(r.detail).toBe(`unsupported content encoding ${JSON.stringify(contentEncoding)} (only utf-8 is accepted)`);
    });
  });

  describe('too-large', () => {
    const opts = { ...OPTS, maxBodyBytes: 1000, maxRawBytes: 64 };

    it('rejects a body over maxBodyBytes, raw truncated to maxRawBytes, rawSize the full size', () => {
      const big = jsonBytes([{ ...EVENTS['task-failed'], traceback: 't'.repeat(1000) }]);
      const r = onlyRejection(decode(big, {}, opts), big, {}, opts);
      expect(r.reason).toBe('too-large');
      expect(r.detail).toBe(`body is ${big.length} bytes, over the limit of 1000`);
      expect(r.raw.length).toBe(64);
      expect(r.rawSize).toBe(big.length);
    });

    it('accepts a body of exactly maxBodyBytes', () => {
      const event = { ...EVENTS['task-failed']!, traceback: '' };
      const base = jsonBytes(event).length;
      const exact = jsonBytes({ ...event, traceback: 't'.repeat(1000 - base) });
      expect(exact.length).toBe(1000);
      expect(decode(exact, {}, opts).events).toHaveLength(1);
      const over = jsonBytes({ ...event, traceback: 't'.repeat(1001 - base) });
      expect(decode(over, {}, opts).rejected[0]!.reason).toBe('too-large');
    });

    it('is checked after content type and before UTF-8', () => {
      const garbage = Buffer.alloc(2000, 0xff);
      expect(decode(garbage, { contentType: 'application/x-yaml' }, opts).rejected[0]!.reason).toBe('unsupported-content-type');
      expect(decode(garbage, {}, opts).rejected[0]!.reason).toBe('too-large');
    });
  });

  describe('not-utf8', () => {
    it.each([
      ['a stray 0xff', Buffer.from([0x7b, 0xff, 0x7d])],
      ['a truncated sequence', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3]), Buffer.from('"}')])],
      ['an overlong encoding', Buffer.from([0x22, 0xc0, 0xaf, 0x22])],
      ['an encoded surrogate', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])],
      ['latin-1 text', Buffer.from('{"hostname": "café"}', 'latin1')],
    ])('%s', (_name, bytes) => {
      const r = onlyRejection(decode(bytes), bytes);
      expect(r.reason).toBe('not-utf8');
      expect(r.detail).toMatch(/^body is not valid UTF-8: /);
    });

    it('a UTF-8 byte-order mark is dropped by the decoder, not an error', () => {
      const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
      expect(decode(withBom).events).toHaveLength(1);
    });
  });

  describe('not-json', () => {
    it.each([
      ['empty body', ''],
      ['truncated', JSON.stringify([EVENTS['task-succeeded']]).slice(0, 50)],
      ['Python NaN literal in a body invalid anyway', '{"type": "task-succeeded", "timestamp": NaN,}'],
      ['NaN as part of a word', '{"type": "task-succeeded", "timestamp": NaNa}'],
      ['trailing garbage', '{"type": "x"} {"type": "y"}'],
      ['single quotes', "{'type': 'task-succeeded'}"],
    ])('%s', (_name, text) => {
      const r = onlyRejection(decode(text), text);
      expect(r.reason).toBe('not-json');
      expect(r.detail).toMatch(/^body is not valid JSON: \S/);
    });

    it('includes the parser message', () => {
      const text = '{"type": }';
      let parserMessage = '';
      try {
        JSON.parse(text);
      } catch (err) {
        parserMessage = (err as Error).message;
      }
      expect(decode(text).rejected[0]!.detail).toBe(`body is not valid JSON: ${parserMessage}`);
    });

    it('survives hostile nesting', () => {
      const text = '['.repeat(200_000) + ']'.repeat(200_000);
      const result = decode(text, {}, { ...OPTS, maxBodyBytes: 1_000_000 });
      expect(result.events).toEqual([]);
      expect(result.rejected.length).toBeGreaterThanOrEqual(1);
    });
  });

  describe('not-an-object', () => {
    it.each([
      ['5', 'a number (5)'],
      ['"task-succeeded"', 'a string ("task-succeeded")'],
      ['null', 'null'],
      ['true', 'a boolean (true)'],
    ])('%s', (text, kind) => {
      const r = onlyRejection(decode(text), text);
      expect(r.reason).toBe('not-an-object');
      expect(r.detail).toBe(`body is ${kind}, not a JSON object or array`);
    });
  });

  it('a single-object body that fails validation is rejected whole, with the body as raw', () => {
    const text = JSON.stringify({ ...EVENTS['worker-heartbeat'], timestamp: '1795486235.87' });
    const r = onlyRejection(decode(text, { routingKey: 'worker.heartbeat' }), text, { routingKey: 'worker.heartbeat' });
    expect(r.reason).toBe('wrong-field-type');
    expect(r.detail).toBe('field "timestamp" must be a number, got "1795486235.87"');
  });

  it('raw is a private copy: changing the input afterwards changes nothing', () => {
    const bytes = Buffer.from('{"type": oops}');
    const r = decode(bytes).rejected[0]!;
    bytes.fill(0);
    expect(r.raw.toString()).toBe('{"type": oops}');
  });

  it('carries a null routing key and content type through', () => {
    const r = decode('nope', { routingKey: null, contentType: null }).rejected[0]!;
    expect(r.routingKey).toBeNull();
    expect(r.contentType).toBeNull();
  });
});

describe('decodeEventBody: nesting and custom event types', () => {
  const deep = (levels: number, inner: string) => '['.repeat(levels) + inner + ']'.repeat(levels);

  it('rejects a field nested deeper than 64 levels without throwing, alone in its batch; 64 levels pass', () => {
    const hb = (x: string) => `{"type": "worker-heartbeat", "hostname": "w1@lab", "timestamp": ${TS}, "clock": 1, "x": ${x}}`;
    const tooDeep = decode(hb(deep(100_000, '1')), { routingKey: 'worker.heartbeat' });
    expect(tooDeep.events).toEqual([]);
    expect(tooDeep.rejected[0]).toMatchObject({ reason: 'wrong-field-type', detail: 'field "x" nests arrays or objects deeper than 64 levels' });
    expect(decode(hb(deep(64, '1')), { routingKey: 'worker.heartbeat' }).events).toHaveLength(1);
    const batch = decode(`[${JSON.stringify(EVENTS['task-started'])}, ${hb(deep(65, '1'))}]`);
    expect(batch.events.map((e) => e.type)).toEqual(['task-started']);
    expect(batch.rejected.map((r) => [r.reason, r.detail])).toEqual([['wrong-field-type', 'element 1 of 2: field "x" nests arrays or objects deeper than 64 levels']]);
  });

  it('an element of a task.multi array too deep to be written back as JSON keeps the whole message as its raw bytes', () => {
    const hb = (x: string) => `{"type": "worker-heartbeat", "hostname": "w1@lab", "timestamp": ${TS}, "clock": 1, "x": ${x}}`;
    const text = `[${JSON.stringify(EVENTS['task-started'])}, ${hb(deep(100_000, '1'))}]`;
    const batch = decode(text);
    expect(batch.events.map((e) => e.type)).toEqual(['task-started']);
    expect(batch.rejected).toHaveLength(1);
    const [r] = batch.rejected;
    expect(r!.detail).toBe('element 1 of 2: field "x" nests arrays or objects deeper than 64 levels (raw: the whole message, as this element cannot be written back as JSON)');
    expect(r!.rawSize).toBe(Buffer.byteLength(text));
    expect(r!.raw.subarray(0, 40).toString()).toBe(text.slice(0, 40));
    // Several such elements in one message: the first keeps the whole message, the others point to it.
    const many = `[${hb(deep(100_000, '1'))}, ${hb(deep(100_000, '2'))}, ${hb(deep(100_000, '3'))}]`;
    const rejectedMany = decode(many, {}, { ...OPTS, maxBodyBytes: 2_000_000 }).rejected;
    expect(rejectedMany.map((x) => x.raw.length)).toEqual([Math.min(Buffer.byteLength(many), OPTS.maxRawBytes), 0, 0]);
    expect(rejectedMany[1]!.detail).toMatch(/\(raw: see the first element of this message rejected that way; message sha1 [0-9a-f]{16}…\)$/);
    // The pointer names its message: the same element in another message is another rejection.
    const other = decode(many.replace('w1@lab', 'w2@lab'), {}, { ...OPTS, maxBodyBytes: 2_000_000 }).rejected;
    expect(other[1]!.detail).not.toBe(rejectedMany[1]!.detail);
    // An element that can be written back keeps its own JSON, as before.
    const shallow = decode(`[${JSON.stringify(EVENTS['task-started'])}, ${hb(deep(65, '1'))}]`);
    expect(shallow.rejected[0]!.raw.toString()).toBe(JSON.stringify(JSON.parse(hb(deep(65, '1')))));
  });

  it('rejects a number beyond double range (1e400 parses as Infinity) in any field of any event, alone in its batch', () => {
    // Stored as JSON it would read back as null: the live projection and a rebuild would differ.
    const progress = (fields: string) => `{"type": "task-progress", "hostname": "w1@lab", "uuid": "u1", "timestamp": ${TS}, ${fields}}`;
    const batch = decode(`[${progress('"runtime": 1e400')}, ${progress('"result": {"pct": [1, -1e999]}')}, ${progress('"runtime": 1.5')}]`);
    expect(batch.events.map((e) => e.fields['runtime'])).toEqual([1.5]);
    expect(batch.rejected.map((r) => [r.reason, r.detail])).toEqual([
      ['wrong-field-type', 'element 0 of 3: field "runtime" holds a number beyond the range of a double (such as 1e400), which JSON cannot carry'],
      ['wrong-field-type', 'element 1 of 3: field "result" holds a number beyond the range of a double (such as 1e400), which JSON cannot carry'],
    ]);
    const custom = decode(`{"type": "worker-custom", "hostname": "w1@lab", "timestamp": ${TS}, "pid": 1e400}`, { routingKey: 'worker.custom' });
    expect(custom.rejected.map((r) => r.reason)).toEqual(['wrong-field-type']);
    // A Celery field keeps its own, more precise message.
    const succeeded = decode(`{"type": "task-succeeded", "hostname": "w1@lab", "uuid": "u1", "timestamp": ${TS}, "runtime": 1e400}`);
    expect(succeeded.rejected[0]?.detail).toBe('field "runtime" must be a finite number, got Infinity');
  });

  it("rejects a deeply nested body holding Python's NaN without throwing", () => {
    const text = `[${deep(100_000, 'NaN')}]`;
    const result = decode(text);
    expect(result.events).toEqual([]);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]!.reason).toBe('not-an-object');
    const withEvent = decode(`[{"type": "worker-heartbeat", "hostname": "w1@lab", "timestamp": ${TS}, "x": ${deep(100_000, 'NaN')}}]`);
    expect(withEvent.rejected.map((r) => r.reason)).toEqual(['wrong-field-type']);
  });

  it("keeps a custom event whose fields reuse Celery's names with other types (send_event('task-progress', result={…}))", () => {
    const progress = { type: 'task-progress', hostname: 'w1@lab', uuid: 'u1', timestamp: TS, clock: 7, result: { a: 1 }, retries: 'n/a', current: 1 };
    expect(decode(JSON.stringify(progress)).events).toMatchObject([{ type: 'task-progress', uuid: 'u1', fields: { result: { a: 1 }, retries: 'n/a' } }]);
    // Its clock is still an order key, and Celery's own types keep their field rules.
    expect(decode(JSON.stringify({ ...progress, clock: 'x' })).rejected[0]).toMatchObject({ reason: 'wrong-field-type' });
    expect(decode(JSON.stringify({ ...EVENTS['task-succeeded'], result: { a: 1 } })).rejected[0]).toMatchObject({ reason: 'wrong-field-type' });
  });
});
