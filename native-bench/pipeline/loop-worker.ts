// A hand-written loop on a worker thread of its own: two of them at once show what two threads of plain JS get on
// this machine, the limit under a p2 job (two vCPUs of a shared host rarely give 2x). The generator loop, or the
// keyed pair loop (each thread its own Map, no records exchanged: the ceiling of a keyed job at p2).
import { parentPort } from 'node:worker_threads';
import { generateFilterLoop, keyedPairLoop } from './loop.ts';

parentPort!.on('message', (range: { readonly loop: 'generate' | 'pairs'; readonly from: number; readonly n: number }) => {
  parentPort!.postMessage(range.loop === 'pairs' ? keyedPairLoop(range.n, range.from).emitted : generateFilterLoop(range.n, range.from).emitted);
});
parentPort!.postMessage('started');
