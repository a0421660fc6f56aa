// Start-up in parts: two worker threads that only start (.mjs and .ts), the same importing msgpackr or weir's worker module, a piscina pool, beside a cold weir job.
// Rounds alternate the variants; medians of ROUNDS. Run: npm run build && npm exec -- node native-bench/startup/parts.ts [rounds]
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { median } from '../lib/report.ts';

const ROUNDS = Number(process.argv[2] ?? 11);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const JOB = new URL('../jobs/startup-keyed.ts', import.meta.url);
const built = (await import(`${ROOT}dist/core/index.js`)) as { submit: (job: URL, o: object) => Promise<{ done: Promise<unknown> }> };

async function threads(imported: string, file = './imports-worker.mjs'): Promise<void> {
  const workers = [0, 1].map(() => new Worker(new URL(file, import.meta.url), { workerData: imported }));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))));
  await Promise.all(workers.map((w) => w.terminate()));
}

async function pool(filename: string): Promise<void> {
  const p = new Piscina({ filename, minThreads: 2, maxThreads: 2 });
  await Promise.all([p.run(0), p.run(0)]);
  await p.destroy();
}

const noop = new URL('./noop-task.mjs', import.meta.url).href;
const variants: Record<string, () => Promise<unknown>> = {
  'two bare threads (.mjs)': () => threads(''),
  'two bare .ts threads (types stripped in each)': () => threads('', '../pipeline/hello-worker.ts'),
  'two threads importing msgpackr': () => threads('msgpackr'),
  'two threads importing weir\'s worker module (dist)': () => threads(pathToFileURL(`${ROOT}dist/actors/runtime/worker.js`).href),
  'piscina, two threads, a no-op task each': () => pool(noop),
  'weir job, cold (warmSlotsMs 0)': async () => (await built.submit(JOB, { parallelism: 2, warmSlotsMs: 0 })).done,
};
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = -1; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(variants)) {
    await new Promise((resolve) => setTimeout(resolve, 100)); // what the last variant left behind (threads exiting) settles first
    const t = performance.now();
    await run();
    if (r >= 0) samples[name]!.push(performance.now() - t);
  }
}
const base = median(samples['two bare threads (.mjs)']!);
for (const [name, s] of Object.entries(samples)) console.log(`${name.padEnd(52)} ${median(s).toFixed(1).padStart(7)} ms  ${(median(s) / base).toFixed(2)}x`);
