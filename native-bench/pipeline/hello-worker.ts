// The least a worker thread can do: say it has started. The floor under any job's start-up.
import { parentPort } from 'node:worker_threads';

parentPort!.postMessage('started');
