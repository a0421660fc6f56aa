// Runs one state-count job in this process and samples its memory every 100 ms; prints the peaks as one JSON line.
// Spawned by state.bench.ts, so that each job's peak starts from a fresh process:
//   node native-bench/state/rss-run.ts <records> <job options as JSON> <cancel above this many RssAnon bytes>
import { readFileSync } from 'node:fs';
import { submit } from '../../core/index.ts';
import type { JobOptions } from '../../core/index.ts';

export interface RssRun {
  readonly options: Partial<JobOptions>;
  readonly ms: number;
  readonly cpuMs: number;
  /** RssAnon: anonymous pages (JS heaps, malloc), not LMDB's file-mapped pages. */
  readonly peakAnonBytes: number;
  /** VmRSS: everything resident, LMDB's mapped file pages included. */
  readonly peakRssBytes: number;
  readonly startAnonBytes: number;
  readonly startRssBytes: number;
  readonly samples: number;
  /** The job was cancelled when RssAnon passed the limit. */
  readonly aborted: boolean;
}

const SAMPLE_MS = 100;

function memory(): { anon: number; rss: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { anon: kb('RssAnon'), rss: kb('VmRSS') };
}

const [records, optionsJson, abortAbove] = process.argv.slice(2);
const n = Number(records);
const options = JSON.parse(optionsJson!) as Partial<JobOptions>;
const url = new URL('../jobs/state-count.ts', import.meta.url);
url.search = new URLSearchParams({ n: String(n), keys: 'distinct', domain: String(n) }).toString();

const start = memory();
let peakAnon = start.anon;
let peakRss = start.rss;
let samples = 0;
let aborted = false;
const began = performance.now();
const cpuBefore = process.cpuUsage();
const handle = await submit(url, options);
const sampler = setInterval(() => {
  const m = memory();
  samples++;
  peakAnon = Math.max(peakAnon, m.anon);
  peakRss = Math.max(peakRss, m.rss);
  if (m.anon > Number(abortAbove) && !aborted) {
    aborted = true;
    void handle.cancel();
  }
}, SAMPLE_MS);
const result = await handle.done.catch((err: Error) => {
  if (aborted) return undefined;
  throw err;
});
clearInterval(sampler);
const cpu = process.cpuUsage(cpuBefore);
if (result !== undefined && result.operators.count?.recordsIn !== n) {
  throw new Error(`rss-run: operator 'count' took ${result.operators.count?.recordsIn} records, expected ${n}`);
}
const run: RssRun = {
  options, ms: performance.now() - began, cpuMs: (cpu.user + cpu.system) / 1000, peakAnonBytes: peakAnon, peakRssBytes: peakRss,
  startAnonBytes: start.anon, startRssBytes: start.rss, samples, aborted,
};
console.log(JSON.stringify(run));
