// CPU time of each thread of this process over a job's runs (/proc/self/task/<tid>/stat, Linux): whether worker
// threads stay on their cores or wait, and what the coordinator's thread and V8's helpers take. Warm slots from run 2.
// Run: npm exec -- node --conditions=weir-source native-bench/thread-cpu.ts <job> <records> [parallelism=2] [runs=3]
//   e.g. ... native-bench/thread-cpu.ts generate-filter 400000000
import { readdirSync, readFileSync } from 'node:fs';
import { submit } from '../core/index.ts';

const [job, n, parallelism = '2', runs = '3'] = process.argv.slice(2);
if (job === undefined || !(Number(n) > 0)) throw new Error('usage: thread-cpu.ts <job> <records> [parallelism] [runs]');

/** Per thread (`tid:name`), its user + system CPU so far in ms (clock ticks of 10 ms). */
function ticks(): Map<string, number> {
  return new Map(readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [`${tid}:${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`, (Number(fields[11]) + Number(fields[12])) * 10];
  }));
}

const url = new URL(`./jobs/${job}.ts?n=${n}`, import.meta.url);
for (let r = 0; r < Number(runs); r++) {
  const before = ticks();
  const started = performance.now();
  await (await submit(url, { parallelism: Number(parallelism) })).done;
  const wall = performance.now() - started;
  const used = [...ticks()].map(([k, ms]) => [k, ms - (before.get(k) ?? 0)] as const).filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]);
  console.log(`run ${r + 1}: wall ${wall.toFixed(0)} ms; CPU ms by thread: ${used.map(([k, ms]) => `${k}=${ms}`).join(' ')}`);
}
