// The same job at two checkouts, alternating: records per CPU-second of the whole process (workers included), so a
// change on the hot path shows even on a shared machine. Used for the gate's cost in BENCHMARKS.md.
//
// Run: git worktree add /tmp/old <commit> && ln -s "$PWD/node_modules" /tmp/old/node_modules
//      npm exec -- node --conditions=weir-source native-bench/ab-checkouts.ts /tmp/old "$PWD" [rounds] [job?query]
// The job: native-bench/jobs/checkpoint-count.ts of each checkout, 4M records over 1M keys, parallelism 2, no checkpoints;
// or the one named (a file of native-bench/jobs/ with its query, whose `n` is the record count), e.g.
//   'windowed.ts?n=1000000&keys=10000&span=20000&window=session'; then, optionally, job options as JSON, e.g.
//   'state-count.ts?n=5000000&keys=zipf&domain=1000000' '{"stateBackend":"lmdb","lmdbCacheBytes":67108864}'.

import { rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';

const [a, b, roundsArg = '5', jobArg = 'checkpoint-count.ts?n=4000000&domain=1000000&failAt=-1', optionsArg = '{}'] = process.argv.slice(2);
const options = JSON.parse(optionsArg) as object;
if (a === undefined || b === undefined) {
  console.error('usage: ab-checkouts.ts <checkout A> <checkout B> [rounds]');
  process.exit(2);
}
const N = Number(new URLSearchParams(jobArg.slice(jobArg.indexOf('?') + 1)).get('n'));
if (!(N > 0)) throw new Error(`the job's query needs n (its record count): ${jobArg}`);
const workDir = join(os.tmpdir(), `weir-ab-${process.pid}`);

async function run(root: string): Promise<number> {
  const { submit } = await import(`${resolve(root)}/core/index.ts`) as typeof import('../core/index.ts');
  const url = new URL(`file://${resolve(root)}/native-bench/jobs/${jobArg}`);
  const before = process.cpuUsage();
  await (await submit(url, { parallelism: 2, workDir, ...options })).done;
  const used = process.cpuUsage(before);
  return N / ((used.user + used.system) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
await run(a);
await run(b);
const ra: number[] = [];
const rb: number[] = [];
for (let i = 0; i < Number(roundsArg); i++) {
  ra.push(await run(a));
  rb.push(await run(b));
}
rmSync(workDir, { recursive: true, force: true });
console.log(`${jobArg}: records per CPU-second, ${os.availableParallelism()} cores: A ${ra.map(Math.round).join(' ')}; B ${rb.map(Math.round).join(' ')}`);
console.log(`B / A (medians): ${(median(rb) / median(ra)).toFixed(3)}`);
