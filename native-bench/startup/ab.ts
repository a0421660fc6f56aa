// Start-up A/B: the cold 1000-record keyed job of two built checkouts, alternated in one process, beside two bare threads.
// Each checkout's own dist/ and its own copy of the job (whose `import 'weir'` resolves to that checkout).
// Run: npm exec -- node native-bench/startup/ab.ts <old checkout> <new checkout> [rounds]
import { Worker } from 'node:worker_threads';
import { median } from '../lib/report.ts';

const [a, b, roundsArg = '15'] = process.argv.slice(2);
if (a === undefined || b === undefined) throw new Error('usage: ab.ts <old checkout> <new checkout> [rounds]');
type Submit = (job: URL, options: object) => Promise<{ done: Promise<unknown> }>;
const variants = await Promise.all([a, b].map(async (root) => ({
  root,
  submit: ((await import(`${root}/dist/core/index.js`)) as { submit: Submit }).submit,
  job: new URL(`file://${root}/native-bench/jobs/startup-keyed.ts`),
})));

async function threads(): Promise<void> {
  const workers = [0, 1].map(() => new Worker(new URL('../pipeline/hello-worker.ts', import.meta.url)));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))));
  await Promise.all(workers.map((w) => w.terminate()));
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
const samples: number[][] = [[], [], []];
for (let r = -1; r < Number(roundsArg); r++) {
  for (const [i, v] of variants.entries()) {
    await settle();
    const t = performance.now();
    await (await v.submit(v.job, { parallelism: 2, warmSlotsMs: 0 })).done;
    if (r >= 0) samples[i]!.push(performance.now() - t);
  }
  await settle();
  const t = performance.now();
  await threads();
  if (r >= 0) samples[2]!.push(performance.now() - t);
}
const [ma, mb, mt] = samples.map(median) as [number, number, number];
console.log(`cold 1000-record keyed job, p2, medians of ${roundsArg}: ${a} ${ma.toFixed(1)} ms (${(ma / mt).toFixed(2)}x threads), `
  + `${b} ${mb.toFixed(1)} ms (${(mb / mt).toFixed(2)}x threads); new/old ${(mb / ma).toFixed(3)}; two bare threads ${mt.toFixed(1)} ms`);
