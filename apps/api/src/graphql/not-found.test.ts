import { describe, expect, it } from 'vitest';
import { taskNotFound, workerNotFound } from './not-found';

describe('NOT_FOUND errors of the top-level lookups', () => {
  it('carry the code, the argument and a message naming the key and what to check', () => {
    const task = taskNotFound('no-such "id"');
    expect(task.extensions).toEqual({ code: 'NOT_FOUND', argument: 'uuid' });
    expect(task.message).toMatch(/^task "no-such \\"id\\"" not found: no event of it has been stored/);
    expect(task.message).toMatch(/celery worker -E.*CM_BROKERS/);

    const worker = workerNotFound('celery@nowhere');
    expect(worker.extensions).toEqual({ code: 'NOT_FOUND', argument: 'hostname' });
    expect(worker.message).toMatch(/^worker "celery@nowhere" not found: no event of it has been stored/);
    expect(worker.message).toMatch(/the workers query lists every known one/);
  });
});
