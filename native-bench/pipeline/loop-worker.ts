// The generator loop on a worker thread of its own: two of them at once show what two threads of plain JS get on
// this machine, the limit under a p2 job of independent subtasks (two vCPUs of a shared host rarely give 2x).
import { parentPort } from 'node:worker_threads';
import { generateFilterLoop } from './loop.ts';

parentPort!.on('message', (range: { readonly from: number; readonly n: number }) => {
  parentPort!.postMessage(generateFilterLoop(range.n, range.from).emitted);
});
parentPort!.postMessage('started');
