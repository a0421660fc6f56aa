// One bench job, run several times in this process: the median wall time and CPU time of all threads, for A/B work on the hot path.
// Run: npm exec -- node native-bench/job-cpu.ts <job> <records> [records form|-] [options as JSON|-] [runs]
//   e.g. npm exec -- node native-bench/job-cpu.ts keyed-count 16000000 pairs - 5
//        npm exec -- node native-bench/job-cpu.ts chained 40000000 - '{"parallelism":1}' 3
//        npm exec -- node native-bench/job-cpu.ts 'state-count?keys=zipf&domain=1000000' 5000000 - '{"stateBackend":"lmdb"}' 3
import { submit } from '../core/index.ts';
import { median } from './lib/report.ts';

const [job, n, records, extra, runs] = process.argv.slice(2);
if (job === undefined || !(Number(n) > 0)) throw new Error('usage: job-cpu.ts <job> <records> [records|-] [options JSON|-] [runs]');
// A job name may carry its own query: state-count?keys=zipf&domain=1000000
const [name, query] = job.split('?');
const url = new URL(`./jobs/${name}.ts${query === undefined ? '' : `?${query}`}`, import.meta.url);
url.searchParams.set('n', n!);
if (records !== undefined && records !== '-') url.searchParams.set('records', records);
const options = extra !== undefined && extra !== '-' ? JSON.parse(extra) as object : {};
const walls: number[] = [];
const cpus: number[] = [];
for (let i = 0; i < Number(runs ?? 5); i++) {
  const before = process.cpuUsage();
  const started = performance.now();
  const result = await (await submit(url, { parallelism: 2, ...options })).done;
  walls.push(performance.now() - started);
  const used = process.cpuUsage(before);
  cpus.push((used.user + used.system) / 1000);
  if (i === 0) {
    console.log(`records in per operator: ${JSON.stringify(Object.fromEntries(Object.entries(result.operators).map(([k, v]) => [k, v.recordsIn])))}, `
      + `${result.checkpoints.length} checkpoints`);
  }
}
const total = Number(n);
console.log(`${job} n=${n} ${records ?? ''} ${extra ?? ''}: wall ${median(walls).toFixed(0)} ms (${(total / median(walls) / 1000).toFixed(1)}M/s), `
  + `cpu ${median(cpus).toFixed(0)} ms (${(total / median(cpus) / 1000).toFixed(1)}M/CPU-s); walls ${walls.map((w) => w.toFixed(0)).join(" ")}; cpus ${cpus.map((w) => w.toFixed(0)).join(" ")}`);
