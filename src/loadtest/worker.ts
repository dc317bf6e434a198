/**
 * Entry point of a load worker thread: runs a LoadDriver over its share of
 * the connections and reports to the engine. Started by spawn-worker.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LoadDriver } from './driver.ts';
import { encodeHistogram } from './histogram.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('src/loadtest/worker.ts must run as a worker thread');

const init = workerData as WorkerInit;
const post = (message: FromWorker): void => port.postMessage(message);
const driver = new LoadDriver(init, () => reportProgress());

let progressTimer: NodeJS.Timeout | null = null;

function reportProgress(): void {
  const interval = driver.interval.totalCount > 0 ? encodeHistogram(driver.interval) : null;
  driver.interval.reset();
  post({ type: 'progress', worker: init.worker, counters: driver.counters, interval, buckets: driver.buckets, window: driver.window() });
}

async function start(epoch: number): Promise<void> {
  progressTimer = setInterval(reportProgress, init.progressIntervalMs);
  try {
    const result = await driver.run(epoch);
    reportProgress();
    post({
      type: 'done',
      worker: init.worker,
      counters: result.counters,
      latency: encodeHistogram(result.latency),
      connect: encodeHistogram(result.connect),
      openDelay: encodeHistogram(result.openDelay),
      sendLag: encodeHistogram(result.sendLag),
      window: driver.window(),
    });
  } finally {
    if (progressTimer) clearInterval(progressTimer);
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'start') {
    start(message.epoch).catch((error: unknown) => {
      post({ type: 'failed', worker: init.worker, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    });
  } else if (message.type === 'abort') {
    driver.abort();
  }
});

post({ type: 'ready', worker: init.worker });
