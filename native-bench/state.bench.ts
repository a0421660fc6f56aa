// Keyed state: the LMDB backend beside the heap backend, per operation, in a running-count job, and in memory.
//
// 1. Operations per second in-process (a backend and a KeyedStateStore, the current key set
//    before every operation, as a keyed operator does): ValueState get+update, ListState add,
//    MapState put and get, over 100K number keys drawn uniformly (MapState: 4 map keys per
//    key). LMDB with a 64 MB write cache, where the working set fits, and with 4 MB, where
//    most reads go to LMDB; each beside the heap backend doing the same operations. Every
//    backend runs the same fixed number of operations (tinybench iterations of 1000), so lists
//    grow alike; the figure is the median iteration.
// 2. A keyed running-count job (submit(), parallelism 2): 5M records over 1M number keys,
//    Zipf(s = 1.0) and uniform, on lmdb beside heap, whole job from submit() to done, and per
//    CPU-second of all threads (the steadier figure on a shared machine); lmdbCacheBytes 64 MB
//    per subtask (the key set fits), 8 MB (it does not), and 64 MB with checkpoints every second;
//    medians of ROUNDS rounds.
// 3. 5M distinct `user-${n}` keys (test/fixtures/jobs/keyed.ts mode=big), parallelism 2, in a
//    fresh process each: the process's peak anonymous RSS (RssAnon, sampled every 100 ms; it
//    leaves out LMDB's file-mapped pages; workers are threads of the process) beside a 1 GiB
//    budget, and its total RSS: with the default cache, with 64 MB, and with 64 MB and
//    workerHeapMb 512 (V8's old-generation limit per worker: without one V8 lets the garbage of
//    evicted cache entries pile up); the heap backend's peak beside them (cancelled past 4 GiB).
//
// Expect: on the running-count job with the 64 MB cache, lmdb >= 0.5x heap records/s under Zipf
// keys and >= 0.3x under uniform keys; the 5M-key job on lmdb, as configured by default, under
// 1 GiB of anonymous memory. The other figures are reported as they come.
// Run: npm run bench -- state   (or: npm exec -- node native-bench/state.bench.ts)

import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { submit } from '../core/index.ts';
import { defaultOptions } from '../core/options.ts';
import type { JobOptions } from '../core/index.ts';
import { formatValue, median, record, sampleEach, writeResults } from './lib/report.ts';
import { Draws, openOp } from './state/ops.ts';
import type { Config } from './state/ops.ts';
import type { RssRun } from './state/rss-run.ts';

const MB = 1 << 20;
const GiB = 1 << 30;
const CACHE_BYTES = 64 * MB;
const WORK_DIR = join(os.tmpdir(), `weir-state-bench-${process.pid}`);

const ROUNDS = 3;
const OP_KEYS = 100_000;
const BATCH = 1000;
const WARMUP_BATCHES = 20;
const BATCHES = 200;

const JOB_RECORDS = 5_000_000;
const JOB_KEYS = 1_000_000;
const PARALLELISM = 2;
const BIG_RECORDS = 5_000_000;
const HEAP_ABORT_BYTES = 4 * GiB;
/** A worker old-generation limit under which the 5M-key lmdb job still runs at speed: V8 collects sooner. */
const LIMITED_HEAP_MB = 512;

console.log(`${os.cpus()[0]?.model}, ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(2)}, Node ${process.version}`);
const began = performance.now();
const seconds = () => `${((performance.now() - began) / 1000).toFixed(0)} s in, load ${os.loadavg()[0]!.toFixed(2)}`;

// 1. Operations per second.
const configs: readonly Config[] = [
  { label: 'heap', kind: 'heap' },
  { label: 'lmdb, 64 MB cache', kind: 'lmdb', cacheBytes: CACHE_BYTES },
  { label: 'lmdb, 4 MB cache', kind: 'lmdb', cacheBytes: 4 * MB },
];
const opKinds = [
  { kind: 'value', label: 'ValueState get+update' },
  { kind: 'list', label: 'ListState add' },
  { kind: 'map-put', label: 'MapState put' },
  { kind: 'map-get', label: 'MapState get' },
] as const;
const draws = new Draws(ROUNDS * (WARMUP_BATCHES + BATCHES) * BATCH, OP_KEYS, 7);
console.log(`\n1. in-process, ${OP_KEYS / 1000}K keys drawn uniformly; per round ${BATCHES} x ${BATCH} operations after ${WARMUP_BATCHES} x ${BATCH}, `
  + `the median iteration; medians of ${ROUNDS} rounds`);
// Opened (and filled) once; each round then runs every operation on every backend in turn, so a
// figure and its baseline see the same load, and lists grow alike.
const tasks = opKinds.flatMap((op) => configs.map((config) => ({
  label: `${op.label}, ${config.label}`, key: `${op.kind}/${config.label}`, reads: op.kind !== 'map-put',
  state: openOp(config, op.kind, OP_KEYS, draws), at: 0,
})));
const statsBefore = tasks.map((t) => t.state.cacheStats());
const opSamples = await sampleEach(ROUNDS, tasks.map((t) => async () => {
  const bench = new Bench({ time: 0, iterations: BATCHES, warmupTime: 0, warmupIterations: WARMUP_BATCHES });
  // tinybench may call the function once more than asked: the draws wrap around then.
  bench.add(t.label, () => {
    if (t.at + BATCH > draws.keys.length) t.at = 0;
    t.state.run(t.at, t.at + BATCH);
    t.at += BATCH;
  }, { async: false });
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`${t.label}: ${result.state === 'errored' ? result.error.message : result.state}`);
  return BATCH / (result.latency.p50 / 1000);
}), 0);
const opsPerSecond = new Map<string, { median: number; samples: number[] }>();
for (const [i, t] of tasks.entries()) {
  const before = statsBefore[i];
  const after = t.state.cacheStats();
  t.state.close();
  const rate = { median: median(opSamples[i]!), samples: opSamples[i]! };
  opsPerSecond.set(t.key, rate);
  let cache = '';
  if (before !== undefined && after !== undefined) {
    const hits = after.hits - before.hits;
    const lookups = hits + after.misses - before.misses;
    cache = `  (${t.reads ? `cache hits ${(100 * hits / lookups).toFixed(0)}%, ` : ''}`
      + `${after.flushes - before.flushes} flushes, ${after.evictions - before.evictions} evictions)`;
  }
  console.log(`  ${t.label.padEnd(36)} ${formatValue(rate.median).padStart(7)} ops/s`
    + ` (${formatValue(Math.min(...rate.samples))}..${formatValue(Math.max(...rate.samples))})${cache}`);
}

// 2. The running-count job.
interface JobRun { readonly ms: number; readonly cpuMs: number }

async function runCountJob(keys: 'zipf' | 'uniform', records: number, options: Partial<JobOptions>): Promise<JobRun> {
  const url = new URL('./jobs/state-count.ts', import.meta.url);
  url.search = new URLSearchParams({ n: String(records), keys, domain: String(JOB_KEYS) }).toString();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await (await submit(url, { parallelism: PARALLELISM, lmdbCacheBytes: CACHE_BYTES, workDir: WORK_DIR, ...options })).done;
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (result.operators.count?.recordsIn !== records) {
    throw new Error(`state-count ${url.search}: operator 'count' took ${result.operators.count?.recordsIn} records, expected ${records}`);
  }
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

// Each case runs lmdb beside heap in the same round: the 64 MB cache, where the key set fits it
// as slab keys (number keys, number counts: core/state/number-slab.ts) and nothing needs LMDB
// but the final flush; an 8 MB cache, where it does not and most records read LMDB; and
// aligned checkpoints every second, where every checkpoint flushes the keys written since the
// last one and copies the environment (the heap backend snapshots its maps).
const CHECKPOINTED = { checkpointInterval: 1000 };
const cases = [
  { keys: 'zipf', setting: `lmdb ${CACHE_BYTES / MB} MB cache`, options: {}, target: 0.5 },
  { keys: 'uniform', setting: `lmdb ${CACHE_BYTES / MB} MB cache`, options: {}, target: 0.3 },
  { keys: 'uniform', setting: 'lmdb 8 MB cache', options: { lmdbCacheBytes: 8 * MB }, target: undefined },
  { keys: 'zipf', setting: `lmdb ${CACHE_BYTES / MB} MB cache, checkpoints every 1 s`, options: CHECKPOINTED, target: undefined },
  { keys: 'uniform', setting: `lmdb ${CACHE_BYTES / MB} MB cache, checkpoints every 1 s`, options: CHECKPOINTED, target: undefined },
] as const;
const jobs = cases.flatMap((c) => (['heap', 'lmdb'] as const).map((backend) => ({ ...c, backend })));
// Module loading and the first JIT of the coordinator are not the backends' to pay for.
for (const backend of ['heap', 'lmdb'] as const) await runCountJob('zipf', 10_000, { stateBackend: backend });
const jobCpu = jobs.map((): number[] => []);
const measureJob = (i: number) => async () => {
  const j = jobs[i]!;
  const run = await runCountJob(j.keys, JOB_RECORDS, { stateBackend: j.backend, ...j.options });
  jobCpu[i]!.push(run.cpuMs);
  return JOB_RECORDS / (run.ms / 1000);
};
const jobSamples = await sampleEach(ROUNDS, jobs.map((_, i) => measureJob(i)), 0);
console.log(`\n2. running-count job, p${PARALLELISM}, ${formatValue(JOB_RECORDS)} records over ${formatValue(JOB_KEYS)} keys; `
  + `medians of ${ROUNDS} (${seconds()}):`);
const jobRate = jobs.map((j, i) => ({
  ...j,
  median: median(jobSamples[i]!),
  samples: jobSamples[i]!,
  perCpuSecond: median(jobCpu[i]!.map((ms) => JOB_RECORDS / (ms / 1000))),
}));
for (const j of jobRate) {
  console.log(`  ${`${j.keys}, ${j.backend === 'heap' ? `heap (beside ${j.setting})` : j.setting}`.padEnd(64)} ${formatValue(j.median).padStart(7)} records/s `
    + `(${formatValue(Math.min(...j.samples))}..${formatValue(Math.max(...j.samples))}), ${formatValue(j.perCpuSecond)} per CPU-second`);
}

// 3. Memory of the 5M-distinct-key job, each run in a fresh process.
function rssRun(label: string, options: Partial<JobOptions>): RssRun & { label: string } {
  const script = fileURLToPath(new URL('./state/rss-run.ts', import.meta.url));
  const json = JSON.stringify({ parallelism: PARALLELISM, workDir: WORK_DIR, ...options });
  const r = spawnSync(process.execPath, [...process.execArgv, script, String(BIG_RECORDS), json, String(HEAP_ABORT_BYTES)], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`rss-run ${json} failed: ${r.error?.message ?? `exit ${r.status}, signal ${r.signal}`}`);
  return { label, ...JSON.parse(r.stdout.trim().split('\n').at(-1)!) as RssRun };
}
const bigRuns = [
  rssRun(`lmdb, default cache (${defaultOptions().lmdbCacheBytes / MB} MB)`, { stateBackend: 'lmdb' }),
  rssRun(`lmdb, ${CACHE_BYTES / MB} MB cache`, { stateBackend: 'lmdb', lmdbCacheBytes: CACHE_BYTES }),
  rssRun(`lmdb, ${CACHE_BYTES / MB} MB cache, workerHeapMb ${LIMITED_HEAP_MB}`, { stateBackend: 'lmdb', lmdbCacheBytes: CACHE_BYTES, workerHeapMb: LIMITED_HEAP_MB }),
];
const bigHeap = rssRun('heap', { stateBackend: 'heap' });
const gib = (bytes: number) => `${(bytes / GiB).toFixed(2)} GiB`;
console.log(`\n3. ${formatValue(BIG_RECORDS)} distinct keys, p${PARALLELISM}, peaks sampled every 100 ms (${seconds()}):`);
for (const r of [...bigRuns, bigHeap]) {
  console.log(`  ${r.label.padEnd(40)} RssAnon ${gib(r.peakAnonBytes)}, RSS ${gib(r.peakRssBytes)} (at start ${gib(r.startAnonBytes)}, ${gib(r.startRssBytes)}); `
    + `${r.aborted ? `cancelled past ${gib(HEAP_ABORT_BYTES)}` : `${formatValue(BIG_RECORDS / (r.ms / 1000))} records/s`}, `
    + `${formatValue(BIG_RECORDS / (r.cpuMs / 1000))} per CPU-second`);
}
rmSync(WORK_DIR, { recursive: true, force: true });
console.log(`\nmeasured in ${((performance.now() - began) / 1000).toFixed(0)} s; load ${os.loadavg()[0]!.toFixed(2)}\n`);

for (const op of opKinds) {
  const heap = opsPerSecond.get(`${op.kind}/heap`)!;
  for (const config of configs.slice(1)) {
    const lmdb = opsPerSecond.get(`${op.kind}/${config.label}`)!;
    record({
      name: `${op.label}, ${config.label}`, value: lmdb.median, unit: 'ops/s', samples: lmdb.samples,
      baseline: { name: `${op.label}, heap`, value: heap.median },
    });
  }
}
for (let i = 0; i < jobRate.length; i += 2) {
  const heap = jobRate[i]!;
  const lmdb = jobRate[i + 1]!;
  const what = `running-count job p${PARALLELISM}, ${formatValue(JOB_RECORDS)} records, ${formatValue(JOB_KEYS)} ${lmdb.keys === 'zipf' ? 'Zipf(1.0)' : 'uniform'} keys`;
  const checkpointed = 'checkpointInterval' in lmdb.options ? ', checkpoints every 1 s' : '';
  record({
    name: `${what}, ${lmdb.setting}`, value: lmdb.median, unit: 'records/s', samples: lmdb.samples,
    baseline: { name: `${what}, heap${checkpointed}`, value: heap.median }, ...(lmdb.target !== undefined ? { target: { ratio: lmdb.target } } : {}),
  });
  record({
    name: `${what}, ${lmdb.setting}, per CPU-second`, value: lmdb.perCpuSecond, unit: 'records/CPU-s',
    baseline: { name: `${what}, heap${checkpointed}, per CPU-second`, value: heap.perCpuSecond },
  });
}
const big = `${formatValue(BIG_RECORDS)} distinct keys, p${PARALLELISM}`;
const budget = { name: '1 GiB budget', value: GiB };
for (const r of bigRuns) {
  record({
    name: `${big}, ${r.label}: peak RssAnon`, value: r.peakAnonBytes, unit: 'bytes', baseline: budget,
    target: { ratio: 1, met: r.peakAnonBytes < GiB },
  });
  record({ name: `${big}, ${r.label}: peak RSS (LMDB's mapped file included)`, value: r.peakRssBytes, unit: 'bytes', baseline: budget });
}
if (!bigHeap.aborted) {
  record({ name: `${big}, heap: peak RssAnon`, value: bigHeap.peakAnonBytes, unit: 'bytes', baseline: budget });
  for (const r of bigRuns) {
    record({
      name: `${big}, ${r.label}: records/s`, value: BIG_RECORDS / (r.ms / 1000), unit: 'records/s',
      baseline: { name: `${big}, heap: records/s`, value: BIG_RECORDS / (bigHeap.ms / 1000) },
    });
  }
}
writeResults('state');
