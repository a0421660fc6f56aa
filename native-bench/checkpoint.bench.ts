// Aligned checkpoints: what they cost a CPU-bound keyed job, how long they take, and what a shorter interval buys.
//
// 1. Overhead: a keyed running count (native-bench/jobs/checkpoint-count.ts: 4M records over
//    1M uniform keys, ValueState, parallelism 2) with checkpoints every 1 s beside the same job
//    with checkpointing off, in rounds (off, on, off, on, ...), heap and lmdb. The figure is
//    the median whole-job records/s; the target is >= 0.95x of the job without checkpoints.
// 2. The checkpoints of those runs: median duration, synchronous and asynchronous parts and
//    state size.
// 3. The interval trade-off (heap): throughput against checkpointing off for intervals from
//    100 ms to 10 s, and the records replayed after a failure injected at 75% of the input
//    (parallelism 1, so the replay is exact: the records between the restored checkpoint's
//    source position and the failure). Drawn as native-bench/results/checkpoint-sweep.svg.
//
// Expect: overhead <= 5% at 1 s on both backends; replay shrinking with the interval.
// Run: npm run bench -- checkpoint   (or: npm exec -- node native-bench/checkpoint.bench.ts)

import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { submit } from '../core/index.ts';
import type { CheckpointStats, JobOptions, JobResult } from '../core/index.ts';
import { formatValue, median, record, sampleEach, writeResults } from './lib/report.ts';
import { lineChart } from './lib/svg.ts';

const N = 4_000_000;
const KEYS = 1_000_000;
const ROUNDS = 3;
const PARALLELISM = 2;
const INTERVALS = [100, 300, 1000, 3000, 10_000];
const WORK_DIR = join(os.tmpdir(), `weir-checkpoint-bench-${process.pid}`);

interface Run { readonly perSecond: number; readonly result: JobResult }

async function run(options: Partial<JobOptions>, failAt = -1): Promise<Run> {
  const url = new URL('./jobs/checkpoint-count.ts', import.meta.url);
  url.search = new URLSearchParams({ n: String(N), domain: String(KEYS), failAt: String(failAt) }).toString();
  const started = performance.now();
  const result = await (await submit(url, { parallelism: PARALLELISM, workDir: WORK_DIR, lmdbCacheBytes: 64 << 20, ...options })).done;
  const ms = performance.now() - started;
  if (result.operators['count']?.recordsIn === undefined) throw new Error('the count operator did not run');
  return { perSecond: N / (ms / 1000), result };
}

const completed = (runs: readonly Run[]): CheckpointStats[] =>
  runs.flatMap((r) => r.result.checkpoints.filter((c) => c.status === 'completed'));

console.log(`checkpoint bench: ${N} records over ${KEYS} keys, parallelism ${PARALLELISM}, ${os.availableParallelism()} cores`);
for (const backend of ['heap', 'lmdb'] as const) {
  const offRuns: Run[] = [];
  const onRuns: Run[] = [];
  const [off, on] = await sampleEach(ROUNDS, [
    async () => { const r = await run({ stateBackend: backend }); offRuns.push(r); return r.perSecond; },
    async () => {
      const r = await run({ stateBackend: backend, checkpointInterval: 1000 });
      onRuns.push(r);
      return r.perSecond;
    },
  ]);
  record({
    name: `${backend}: keyed count with aligned checkpoints every 1 s`, value: median(on!), unit: 'records/s', samples: on,
    baseline: { name: 'the same job without checkpoints', value: median(off!) }, target: { ratio: 0.95 },
  });
  const cps = completed(onRuns.slice(-ROUNDS));
  if (cps.length === 0) {
    console.log(`${backend}: no checkpoint completed within a run (the job is shorter than the interval)`);
    continue;
  }
  const m = (f: (c: CheckpointStats) => number) => median(cps.map(f));
  console.log(`${backend}: ${cps.length} checkpoints; median duration ${m((c) => c.durationMs).toFixed(1)} ms, `
    + `sync ${m((c) => c.syncMs).toFixed(1)} ms, async ${m((c) => c.asyncMs).toFixed(1)} ms, alignment ${m((c) => c.alignmentMs).toFixed(1)} ms, `
    + `state ${formatValue(m((c) => c.stateBytes))} bytes`);
  record({
    name: `${backend}: checkpoint duration (median of ${cps.length})`, value: m((c) => c.durationMs), unit: 'ms',
    baseline: { name: 'the 1 s interval', value: 1000 }, target: { ratio: 0.5, met: m((c) => c.durationMs) <= 500 },
  });
}

// 3. The interval sweep, heap.
const sweep: { interval: number; ratio: number; replayed: number; checkpoints: number }[] = [];
const failAt = Math.floor(N * 0.75);
for (const interval of INTERVALS) {
  const [off, on] = await sampleEach(2, [
    async () => (await run({ stateBackend: 'heap' })).perSecond,
    async () => (await run({ stateBackend: 'heap', checkpointInterval: interval })).perSecond,
  ], 0);
  const failed = await run({
    stateBackend: 'heap', checkpointInterval: interval, parallelism: 1, restartStrategy: 'fixed-delay', restartAttempts: 1, restartDelay: 0,
  }, failAt);
  // The restored attempt's source emitted N - position; everything from the position up to the failure ran twice.
  const restoredPosition = N - failed.result.operators['src']!.recordsOut;
  const replayed = failAt - restoredPosition;
  const ratio = median(on!) / median(off!);
  sweep.push({ interval, ratio, replayed, checkpoints: failed.result.checkpoints.filter((c) => c.status === 'completed').length });
  console.log(`interval ${interval} ms: throughput ${(ratio * 100).toFixed(1)}% of no checkpoints; `
    + `a failure at record ${failAt} replays ${replayed} records (restored from ${failed.result.restoredFrom === null ? 'nothing: a fresh start' : `checkpoint ${failed.result.restoredFrom.id}`})`);
  record({ name: `heap, checkpoints every ${interval} ms: throughput`, value: median(on!), unit: 'records/s', samples: on,
    baseline: { name: 'the same job without checkpoints', value: median(off!) } });
}

const svg = lineChart({
  title: `Checkpoint interval: throughput and replay after a failure (${os.availableParallelism()} cores)`,
  xLabel: 'checkpoint interval', leftLabel: 'throughput, % of no checkpoints', rightLabel: 'records replayed after a failure',
  left: { name: 'throughput', color: '#1f6feb', points: sweep.map((s) => [s.interval, s.ratio * 100] as const) },
  right: { name: 'replayed', color: '#d1242f', points: sweep.map((s) => [s.interval, s.replayed] as const) },
});
const svgPath = fileURLToPath(new URL('./results/checkpoint-sweep.svg', import.meta.url));
writeFileSync(svgPath, svg);
console.log(`chart written to ${svgPath}`);
console.log(JSON.stringify(sweep));
rmSync(WORK_DIR, { recursive: true, force: true });
writeResults('checkpoint');
