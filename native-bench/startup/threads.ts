// A process that starts `count` worker threads that only say they have started, and exits: the floor under `weir run`.
import { Worker } from 'node:worker_threads';

const count = Number(process.argv[2] ?? 2);
const workers = Array.from({ length: count }, () => new Worker(new URL('../pipeline/hello-worker.ts', import.meta.url)));
await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))));
await Promise.all(workers.map((w) => w.terminate()));
