// A keyed pipeline end to end: weir at parallelism 2 beside the same user functions run by hand, by postMessage workers and by RxJS.
//
// The pipeline: numbers -> map to a {key, value} record -> keyBy(key) over 10K keys -> a
// running count/sum per key in a Map held by the ProcessFunction (keyed state is not built
// yet) -> discard. weir runs it with plain objects (general codec) and with typed pairs,
// .returns(Types.TUPLE(INT32, FLOAT64)) (schema codec). Beside it, in the same run and with
// the same functions (pipeline/functions.ts): a hand-written loop on one thread; the same
// pipeline hand-built on 2 worker threads posting arrays of 1000 records; RxJS's groupBy form
// and its scan-over-a-Map form. Then a stateless job, map -> filter -> map chained at
// parallelism 1, beside the same loop.
//
// Every job runs in this one process, so from the second on a job takes the worker threads the
// last one left (warm slots, core/coordinator/attempt.ts), as the postMessage baseline's workers
// live across runs; what a weir job still pays per run (deploying, importing the job module
// afresh in each worker, building and wiring the graph) is taken out by running each job with N
// and with 2N records: (2N - N) / (t2N - tN), from the medians, is the steady-state throughput,
// quoted beside the whole-job figure N / tN, and a job of 1000 records shows that per-run cost
// alone (a cold start, threads and all, is startup.bench.ts's). CPU time of all threads is taken too: records per CPU-second hold better than wall
// time where other work shares the machine. Rounds of every measurement, medians of RUNS after
// a warm-up round, so that a figure and its baseline see the same load.
//
// Then the typed job with unaligned checkpoints every second, without and with objectReuse (its
// process function keeps no input record), and a source generating objects
// in the worker followed by a filter keeping 1%, at parallelism 1 and 2, beside the same in a loop,
// and beside that loop on two worker threads at once (what two threads of plain JS get here); the keyed pair loop,
// too, on two threads at once, each over half the records with a Map of its own.
//
// Expect, at steady state: typed pairs with unaligned checkpoints >= 1.0x the hand-written loop
// (>= 0.5x per CPU-second); whole jobs of plain objects >= 1.5x the postMessage pipeline and
// >= 3x RxJS groupBy; the chained job >= 0.9x its loop; the generator job >= 0.9x its loop at
// p1 and >= 1.8x at p2.
// Run: npm run bench -- pipeline   (or: npm exec -- node native-bench/pipeline.bench.ts)

import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { expectedSum, KEYS } from './pipeline/functions.ts';
import { chainedLoop, generateFilterLoop, keyedLoop, keyedPairLoop } from './pipeline/loop.ts';
import type { LoopResult } from './pipeline/loop.ts';
import { PostPipeline } from './pipeline/post.ts';
import { rxGroupBy, rxScan } from './pipeline/rx.ts';
import { runJob } from './pipeline/weir.ts';
import { defaultOptions } from '../core/options.ts';
import { formatValue, median, record, sampleEach, writeResults } from './lib/report.ts';

/** Rounds: the machine is shared and its two-thread figures swing by 2x between rounds, so medians of many. */
const RUNS = 9;
/** Records of the keyed weir jobs (and 2N), the loops and the postMessage pipeline. */
const N = 4_000_000;
/** RxJS's groupBy form manages 10K subjects: fewer records keep the bench short. */
const N_RX = 1_000_000;
const N_CHAINED = 10_000_000;
/** The typed job with unaligned checkpoints every second: long enough runs to take some. */
const N_CHECKPOINTED = 40_000_000;
const CHECKPOINTED = { checkpointInterval: 1000, unaligned: true };
/**
 * The generator job: a cheap record, so many of them. At 40M the runs took 150-300 ms and
 * (2N - N) / (t2N - tN) spanned 239M..837M over 5 runs at p2; at 200M the two runs differ by
 * about a second.
 */
const N_GENERATED = 200_000_000;
const N_TINY = 1000;
const POST_BATCH = 1000;
const PARALLELISM = 2;
/** weir's defaults, passed explicitly so the figures say what they ran with. */
// The defaults users get: frames of frameBytes (records per frame by size, at most batchSize), 256 KiB rings.
// Slots stay warm through the whole bench (the postMessage workers, too, live across runs): with the
// default 2 s, the p1 pool expired while a round ran the other measures, so a round's N run
// started threads and its 2N run did not, and the chained job's 2N - N came out negative.
const WARM = { warmSlotsMs: 600_000 };
const WEIR_OPTIONS = { parallelism: PARALLELISM, ringCapacity: 256 * 1024, ...WARM };

const perSecond = (records: number, ms: number) => records / (ms / 1000);

function checkKeyed(what: string, results: readonly LoopResult[], n: number): void {
  const keys = results.reduce((a, r) => a + r.keys, 0);
  const emitted = results.reduce((a, r) => a + r.emitted, 0);
  const sum = results.reduce((a, r) => a + r.sum, 0);
  if (keys !== Math.min(n, KEYS) || emitted !== n || sum !== expectedSum(0, n)) {
    throw new Error(`${what}: ${keys} keys, ${emitted} emitted, sum ${sum}; expected ${KEYS}, ${n}, ${expectedSum(0, n)}`);
  }
}

/** Milliseconds of fn(), after which check() throws if the run went wrong. */
async function timed<T>(fn: () => T | Promise<T>, check: (r: T) => void): Promise<number> {
  const started = performance.now();
  const r = await fn();
  const ms = performance.now() - started;
  check(r);
  return ms;
}

const keyedJob = (records: 'objects' | 'pairs', n: number) => async () =>
  (await runJob('keyed-count', { records, n }, WEIR_OPTIONS, { records: n, sum: n, sink: n })).ms;
/** Checkpoints each checkpointed run completed, to show they were taken. */
const checkpointsTaken: number[] = [];
// `reuse`: with the objectReuse option, which the job's process function allows (it keeps no input record).
const checkpointedJob = (n: number, reuse = false) => async () => {
  const run = await runJob('keyed-count', { records: 'pairs', n }, { ...WEIR_OPTIONS, ...CHECKPOINTED, objectReuse: reuse }, { records: n, sum: n, sink: n });
  checkpointsTaken.push(run.checkpoints);
  return run.ms;
};
const generatorJob = (parallelism: number, n: number) => async () =>
  (await runJob('generate-filter', { n }, { parallelism, ringCapacity: WEIR_OPTIONS.ringCapacity, ...WARM },
    { generator: 0, kept: n, sink: n / 100 })).ms;
const chainedJob = (n: number) => async () =>
  (await runJob('chained', { n }, { parallelism: 1, ringCapacity: WEIR_OPTIONS.ringCapacity, ...WARM },
    { records: n, even: n, scaled: n / 2, sink: n / 2 })).ms;

/** A loop on two worker threads at once, each over half the records; they live across runs. */
const loopWorkers = await Promise.all(Array.from({ length: PARALLELISM }, () => new Promise<Worker>((resolve, reject) => {
  const w = new Worker(new URL('./pipeline/loop-worker.ts', import.meta.url));
  w.once('message', () => resolve(w)).once('error', reject);
})));
async function parallelLoops(loop: 'generate' | 'pairs', n: number): Promise<number> {
  const share = n / loopWorkers.length;
  const kept = await Promise.all(loopWorkers.map((w, i) => new Promise<number>((resolve) => {
    w.once('message', resolve);
    w.postMessage({ loop, from: i * share, n: share });
  })));
  return kept.reduce((a, b) => a + b, 0);
}

/** Starts `count` worker threads that only say they have started, and stops them. */

async function startThreads(count: number): Promise<void> {
  const workers = Array.from({ length: count }, () => new Worker(new URL('./pipeline/hello-worker.ts', import.meta.url)));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))));
  await Promise.all(workers.map((w) => w.terminate()));
}

const post = new PostPipeline(PARALLELISM);
const measures = {
  objectsN: keyedJob('objects', N),
  objects2N: keyedJob('objects', 2 * N),
  pairsN: keyedJob('pairs', N),
  pairs2N: keyedJob('pairs', 2 * N),
  tiny: keyedJob('objects', N_TINY),
  threads: () => timed(() => startThreads(PARALLELISM), () => {}),
  pairsCheckpointedN: checkpointedJob(N_CHECKPOINTED),
  pairsCheckpointed2N: checkpointedJob(2 * N_CHECKPOINTED),
  pairsReusedN: checkpointedJob(N_CHECKPOINTED, true),
  pairsReused2N: checkpointedJob(2 * N_CHECKPOINTED, true),
  chainedN: chainedJob(N_CHAINED),
  chained2N: chainedJob(2 * N_CHAINED),
  generatedN: generatorJob(1, N_GENERATED),
  generated2N: generatorJob(1, 2 * N_GENERATED),
  generatedP2N: generatorJob(2, N_GENERATED),
  generatedP22N: generatorJob(2, 2 * N_GENERATED),
  generatedLoop: () => timed(() => generateFilterLoop(N_GENERATED), (r) => {
    if (r.emitted !== N_GENERATED / 100) throw new Error(`generator loop kept ${r.emitted}`);
  }),
  generatedLoops: () => timed(() => parallelLoops('generate', N_GENERATED), (kept) => {
    if (kept !== N_GENERATED / 100) throw new Error(`generator loops on ${PARALLELISM} threads kept ${kept}`);
  }),
  loop: () => timed(() => keyedLoop(N), (r) => checkKeyed('loop', [r], N)),
  pairLoop: () => timed(() => keyedPairLoop(N), (r) => checkKeyed('pair loop', [r], N)),
  pairLoops: () => timed(() => parallelLoops('pairs', N), (emitted) => {
    if (emitted !== N) throw new Error(`pair loops on ${PARALLELISM} threads emitted ${emitted}`);
  }),
  chainedLoop: () => timed(() => chainedLoop(N_CHAINED), (r) => {
    if (r.emitted !== N_CHAINED / 2) throw new Error(`chained loop emitted ${r.emitted}`);
  }),
  post: () => timed(() => post.run(N, POST_BATCH), (r) => checkKeyed('postMessage', r, N)),
  rxGroupBy: () => timed(() => rxGroupBy(N_RX), (e) => { if (e !== N_RX) throw new Error(`RxJS groupBy emitted ${e}`); }),
  rxScan: () => timed(() => rxScan(N_RX), (e) => { if (e !== N_RX) throw new Error(`RxJS scan emitted ${e}`); }),
};
type Name = keyof typeof measures;
const names = Object.keys(measures) as Name[];
/** CPU ms of every thread of this process during each sample: what a run costs on a machine others share. */
const cpu = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<Name, number[]>;
const withCpu = (name: Name) => async () => {
  const before = process.cpuUsage();
  const ms = await measures[name]();
  const used = process.cpuUsage(before);
  cpu[name].push((used.user + used.system) / 1000);
  return ms;
};

console.log(`${os.cpus()[0]?.model}, ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(2)}, Node ${process.version}; `
  + `${formatValue(N)} records over ${KEYS / 1000}K keys (RxJS ${formatValue(N_RX)}, chained ${formatValue(N_CHAINED)}); `
  + `weir frameBytes ${defaultOptions().frameBytes / 1024} KiB (batchSize ${defaultOptions().batchSize} at most), ringCapacity ${WEIR_OPTIONS.ringCapacity / 1024} KiB; medians of ${RUNS} runs`);
const began = performance.now();
const samples = Object.fromEntries(
  (await sampleEach(RUNS, names.map(withCpu))).map((s, i) => [names[i]!, s]),
) as Record<Name, number[]>;
await post.close();
await Promise.all(loopWorkers.map((w) => w.terminate()));
for (const k of names) cpu[k].splice(0, cpu[k].length - RUNS);
console.log(`measured in ${((performance.now() - began) / 1000).toFixed(0)} s; load ${os.loadavg()[0]!.toFixed(2)}\n`);

interface Rate {
  readonly label: string;
  readonly median: number;
  readonly samples: readonly number[];
  /** Records per second of CPU time, all threads together. */
  readonly perCpuSecond: number;
}

const rate = (label: string, name: Name, records: number): Rate => {
  const s = samples[name].map((ms) => perSecond(records, ms));
  return { label, median: median(s), samples: s, perCpuSecond: median(cpu[name].map((ms) => perSecond(records, ms))) };
};
/**
 * (2N - N) / (t2N - tN): the records a job moves once it is running. From the medians: a
 * per-round difference of two noisy times can come out near zero or negative on a shared
 * machine. The per-round figures are kept as samples, for the spread.
 */
const steady = (label: string, nName: Name, twoNName: Name, n: number): Rate => {
  const s = samples[twoNName].map((t2, i) => perSecond(n, t2 - samples[nName][i]!));
  return {
    label, samples: s,
    median: perSecond(n, median(samples[twoNName]) - median(samples[nName])),
    perCpuSecond: perSecond(n, median(cpu[twoNName]) - median(cpu[nName])),
  };
};
/** tN - N / steady: what a run costs beyond its records. */
const startup = (nName: Name, twoNName: Name) => 2 * median(samples[nName]) - median(samples[twoNName]);

const rates = {
  objectsSteady: steady('weir p2, objects (general codec), steady state', 'objectsN', 'objects2N', N),
  objectsWhole: rate(`weir p2, objects (general codec), whole job of ${formatValue(N)}`, 'objectsN', N),
  pairsSteady: steady('weir p2, typed pairs (schema codec), steady state', 'pairsN', 'pairs2N', N),
  pairsWhole: rate(`weir p2, typed pairs (schema codec), whole job of ${formatValue(N)}`, 'pairsN', N),
  loop: rate('hand-written loop, objects, 1 thread', 'loop', N),
  pairLoop: rate('hand-written loop, pairs, 1 thread', 'pairLoop', N),
  pairLoops: rate(`the pair loop on ${PARALLELISM} threads at once, half the records each, a Map each`, 'pairLoops', N),
  post: rate(`postMessage pipeline, ${PARALLELISM} workers, arrays of ${POST_BATCH}`, 'post', N),
  rxGroupBy: rate('RxJS range > map > groupBy > mergeMap(scan)', 'rxGroupBy', N_RX),
  rxScan: rate('RxJS range > map > scan over one Map', 'rxScan', N_RX),
  pairsCheckpointedSteady: steady('weir p2, typed pairs, unaligned checkpoints every 1 s, steady state', 'pairsCheckpointedN', 'pairsCheckpointed2N', N_CHECKPOINTED),
  pairsReusedSteady: steady('weir p2, typed pairs, unaligned checkpoints every 1 s, objectReuse, steady state', 'pairsReusedN', 'pairsReused2N', N_CHECKPOINTED),
  generatedSteady: steady('weir p1, generator source > filter keeping 1%, steady state', 'generatedN', 'generated2N', N_GENERATED),
  generatedP2Steady: steady('weir p2, generator source > filter keeping 1%, steady state', 'generatedP2N', 'generatedP22N', N_GENERATED),
  generatedLoop: rate('hand-written loop, generate > filter keeping 1%', 'generatedLoop', N_GENERATED),
  // Whole jobs of 2N: the steady-state difference of such fast jobs spans signs on this machine at p2.
  generatedWhole: rate(`weir p1, generator source > filter keeping 1%, whole job of ${formatValue(2 * N_GENERATED)}`, 'generated2N', 2 * N_GENERATED),
  generatedP2Whole: rate(`weir p2, generator source > filter keeping 1%, whole job of ${formatValue(2 * N_GENERATED)}`, 'generatedP22N', 2 * N_GENERATED),
  generatedLoops: rate(`the same loop on ${PARALLELISM} threads at once, half the records each`, 'generatedLoops', N_GENERATED),
  chainedSteady: steady('weir p1, map > filter > map chained, steady state', 'chainedN', 'chained2N', N_CHAINED),
  chainedWhole: rate(`weir p1, map > filter > map chained, whole job of ${formatValue(N_CHAINED)}`, 'chainedN', N_CHAINED),
  chainedLoop: rate('hand-written loop, map > filter > map', 'chainedLoop', N_CHAINED),
};
console.log(`  ${'pipeline'.padEnd(62)} ${'records/s'.padStart(9)} ${'(min..max)'.padStart(16)}   per CPU-second`);
for (const r of Object.values(rates)) {
  console.log(`  ${r.label.padEnd(62)} ${formatValue(r.median).padStart(9)}`
    + ` ${`(${formatValue(Math.min(...r.samples))}..${formatValue(Math.max(...r.samples))})`.padStart(16)}`
    + `   ${formatValue(r.perCpuSecond).padStart(7)}`);
}
const tinyMs = median(samples.tiny);
console.log(`  start-up on warm slots: a ${N_TINY}-record keyed job takes ${tinyMs.toFixed(0)} ms whole (${PARALLELISM} .ts worker threads that only start: `
  + `${median(samples.threads).toFixed(0)} ms); beyond its records a run costs `
  + `${startup('objectsN', 'objects2N').toFixed(0)} ms (objects), ${startup('pairsN', 'pairs2N').toFixed(0)} ms (pairs), `
  + `${startup('chainedN', 'chained2N').toFixed(0)} ms (chained); CPU of the ${N_TINY}-record job, all threads: `
  + `${median(cpu.tiny).toFixed(0)} ms (those threads: ${median(cpu.threads).toFixed(0)} ms)\n`);

const fig = (r: Rate) => ({ name: r.label, value: r.median, unit: 'records/s', samples: r.samples });
const base = (r: Rate) => ({ name: r.label, value: r.median });
console.log(`  checkpoints completed per checkpointed run: ${checkpointsTaken.slice(-4 * RUNS).join(' ')} (N, 2N, N and 2N with objectReuse, in turn)\n`);
for (const [figure, baseline, ratio] of [
  [rates.pairsCheckpointedSteady, rates.pairLoop, 1],
  [rates.pairsReusedSteady, rates.pairLoop, 1],
  [rates.pairsSteady, rates.pairLoop, 1],
  [rates.pairsWhole, rates.pairLoop, 1],
  [rates.pairsSteady, rates.loop, 1],
  // What two threads of plain JS get at once on the keyed work, each with its own Map and nothing exchanged:
  // the 1.0x above assumes that two threads give 2x of one.
  [rates.pairLoops, rates.pairLoop, undefined],
  [rates.pairsReusedSteady, rates.pairLoops, undefined],
  [rates.objectsSteady, rates.post, 1.5],
  [rates.objectsWhole, rates.post, 1.5],
  [rates.objectsSteady, rates.rxGroupBy, 3],
  [rates.objectsWhole, rates.rxGroupBy, 3],
  [rates.objectsSteady, rates.rxScan, undefined],
  [rates.objectsSteady, rates.loop, undefined],
  [rates.chainedSteady, rates.chainedLoop, 0.9],
  [rates.chainedWhole, rates.chainedLoop, undefined],
  [rates.generatedSteady, rates.generatedLoop, 0.9],
  [rates.generatedP2Steady, rates.generatedLoop, 1.8],
  // What two threads of plain JS get here at once: the 1.8x above assumes they get 2x.
  [rates.generatedLoops, rates.generatedLoop, undefined],
  [rates.generatedP2Steady, rates.generatedLoops, undefined],
  [rates.generatedWhole, rates.generatedLoop, 0.9],
  [rates.generatedP2Whole, rates.generatedLoop, 1.8],
  [rates.generatedP2Whole, rates.generatedLoops, undefined],
] as const) {
  record({ ...fig(figure), baseline: base(baseline), ...(ratio === undefined ? {} : { target: { ratio } }) });
}
// The same comparisons in CPU time: where other work shares the machine, records per CPU-second hold better
// than wall time. Two threads' worth of CPU per wall second is the most a p2 job can have.
const cpuFig = (r: Rate) => ({ name: `${r.label}, per CPU-second`, value: r.perCpuSecond, unit: 'records/CPU-s' });
const cpuBase = (r: Rate) => ({ name: `${r.label}, per CPU-second`, value: r.perCpuSecond });
for (const [figure, baseline, ratio] of [
  [rates.pairsCheckpointedSteady, rates.pairLoop, 0.5],
  [rates.pairsReusedSteady, rates.pairLoop, 0.5],
  [rates.pairsSteady, rates.pairLoop, undefined],
  [rates.objectsSteady, rates.post, undefined],
  [rates.objectsSteady, rates.rxGroupBy, undefined],
  [rates.chainedSteady, rates.chainedLoop, undefined],
  [rates.generatedSteady, rates.generatedLoop, undefined],
] as const) {
  record({ ...cpuFig(figure), baseline: cpuBase(baseline), ...(ratio === undefined ? {} : { target: { ratio } }) });
}
record({ name: `weir p2 start-up on warm slots: a ${N_TINY}-record keyed job, whole`, value: tinyMs, unit: 'ms', samples: samples.tiny,
  baseline: { name: `${PARALLELISM} worker threads (.ts) that only start, started and stopped`, value: median(samples.threads) } });
writeResults('pipeline');
