// A worker thread that imports what its workerData names (nothing: a bare thread), then says it has started: start-up's parts, one at a time (parts.ts).
// Plain JavaScript, as the built package's workers are: a .ts file would have its types stripped in the thread first.
import { enableCompileCache } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

// With Node's compile cache, as weir's worker entry has it.
if (typeof workerData === 'string' && workerData !== '') {
  enableCompileCache();
  await import(workerData);
}
parentPort.postMessage('started');
