/**
 * Worker-thread entry of ThreadedEventWriter: owns the EventStore (its SQLite connection, its
 * WAL checkpointer) and serves requests strictly one after another, in the order they were posted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EventStore } from '../event-store';
import {
  fromWireEvents, fromWireRejections, slimReceipt, toWireError,
  type WriterNotice, type WriterRequest, type WriterResponse, type WriterThreadData,
} from './writer-thread-protocol';

const port = parentPort;
if (!port) throw new Error('sqlite-writer-thread runs as a worker thread of ThreadedEventWriter');

function post(message: WriterResponse | WriterNotice): void {
  port!.postMessage(message);
}

async function serve(store: EventStore, request: WriterRequest): Promise<unknown> {
  switch (request.op) {
    case 'append':
      return slimReceipt(await store.append({ events: fromWireEvents(request.events), rejected: fromWireRejections(request.rejected) }));
    case 'probeWritable':
      return store.probeWritable();
    case 'sourceCheckpoint':
      return store.sourceCheckpoint(request.source);
    case 'expiredWorkers':
      return store.expiredWorkers(request.now);
    case 'strandedTasks':
      return store.strandedTasks(request.limit, request.afterUuid);
    case 'sizeBytes':
      return store.sizeBytes();
    case 'close':
      return store.close();
  }
}

async function main(): Promise<void> {
  const { url, options } = workerData as WriterThreadData;
  let store: EventStore;
  try {
    store = await EventStore.open(url, { ...options, onCheckpointFailure: (message) => post({ notice: 'checkpoint-failure', message }) });
  } catch (error) {
    post({ notice: 'open-failed', error: toWireError(error) });
    return;
  }
  post({ notice: 'ready', description: store.description });
  let queue: Promise<void> = Promise.resolve();
  port!.on('message', (request: WriterRequest) => {
    queue = queue.then(async () => {
      try {
        post({ id: request.id, ok: true, value: await serve(store, request) });
      } catch (error) {
        post({ id: request.id, ok: false, error: toWireError(error) });
      }
      if (request.op === 'close') port!.close();
    });
  });
}

void main();
