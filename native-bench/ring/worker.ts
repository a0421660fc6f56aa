// The worker thread at one end of every transport in ring.bench.ts: runs the producer or consumer loop it is sent.

import { parentPort, workerData } from 'node:worker_threads';
import { variants, type RunRequest, type RunReply } from './variants.ts';

const role = (workerData as { role: 'producer' | 'consumer' }).role;
const port = parentPort!;

/** Wall-clock ms with sub-microsecond resolution, comparable across threads of one process. */
const now = () => performance.timeOrigin + performance.now();

port.on('message', async (req: RunRequest) => {
  const variant = variants[req.variant];
  if (role === 'consumer') {
    // Sent before the loop: a blocking loop does not hold up a message already posted.
    port.postMessage({ kind: 'ready' } satisfies RunReply);
    const sum = await variant.consume(req.end as never, req.job);
    port.postMessage({ kind: 'consumed', at: now(), sum } satisfies RunReply);
  } else {
    const at = now();
    await variant.produce(req.end as never, req.job);
    port.postMessage({ kind: 'produced', at } satisfies RunReply);
  }
});
