// Aligned against unaligned checkpoints under backpressure, in the manner of flink-benchmarks'
// CheckpointingTimeBenchmark.
//
// The job (native-bench/jobs/backpressure.ts): parallelism 2, default ring capacity and batch
// size, records of about 100 bytes, source -> rebalance -> map -> rebalance -> a sink that
// busy-spins 200 us or 1 ms per record. Once the source is backpressured (the rings are full),
// checkpoints are triggered one after another and timed: aligned, unaligned, and aligned with
// alignedCheckpointTimeout, each in its own run of the same job. The same job with a sink that
// keeps up (a rate-limited source, no busy spin) gives the duration without backpressure.
// Printed first: the parameters and the aligned duration they predict (the records ahead of a
// barrier, over the sinks' rate).
//
// Then the throughput cost of unaligned checkpoints every 1 s on the CPU-bound keyed count
// (native-bench/jobs/checkpoint-count.ts) beside the same job without checkpoints and with
// aligned ones, in alternating rounds.
//
// Expect: unaligned >= 100x faster than aligned under backpressure, and within 3x of a
// checkpoint without backpressure; throughput within 5% of no checkpoints.
// Run: npm run bench -- unaligned   (or: npm exec -- node native-bench/unaligned.bench.ts)

import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { submit } from '../core/index.ts';
import { defaultOptions } from '../core/options.ts';
import type { CheckpointStats, JobOptions } from '../core/index.ts';
import { generalCodec } from '../core/codec/general.ts';
import { BODY } from './jobs/backpressure.ts';
import { formatValue, median, record, sampleEach, writeResults } from './lib/report.ts';
import { barChart } from './lib/svg.ts';

const PARALLELISM = 2;
const CHECKPOINTS = Number(process.env.WEIR_BENCH_CHECKPOINTS ?? 4);
const FILL_MS = 2000;
const WORK_DIR = join(os.tmpdir(), `weir-unaligned-bench-${process.pid}`);
const defaults = defaultOptions();

// What the parameters predict for an aligned checkpoint: every record ahead of a barrier must
// pass the slow sinks first. Ahead of it: each full ring (source -> map and map -> sink, p x p
// of each) and each source's overdraft (one call's output: 4 frames of each channel).
const sample = Array.from({ length: 256 }, (_, i) => ({ seq: 1_000_000 + i, src: 1, body: BODY }));
const encodedPerRecord = generalCodec().encode(sample, 0, sample.length).byteLength / sample.length;
// Records per frame as the writers choose them: frameBytes (within half a ring) over the records' size, at most batchSize.
const perFrame = Math.max(1, Math.min(defaults.batchSize,
  Math.floor(Math.min(defaults.frameBytes, Math.floor((defaults.ringCapacity - 8) / 2)) / encodedPerRecord)));
const bytesPerRecord = encodedPerRecord + 8 / perFrame;
const perRing = Math.floor(defaults.ringCapacity / bytesPerRecord);
const perCall = Math.min(4 * perFrame * PARALLELISM, 4 * defaults.batchSize);
const ahead = 2 * PARALLELISM * PARALLELISM * perRing + PARALLELISM * perCall;
const predicted = (sinkUs: number) => (ahead * sinkUs) / 1000 / PARALLELISM;

console.log(`unaligned bench: parallelism ${PARALLELISM}, ${os.availableParallelism()} cores, ring ${defaults.ringCapacity} bytes, `
  + `frames of ${perFrame} records, ${bytesPerRecord.toFixed(1)} bytes per record encoded (${perRing} records per ring)`);
console.log(`about ${ahead} records wait ahead of an aligned barrier: it should take ~${predicted(200).toFixed(0)} ms at 200 us per record, `
  + `~${predicted(1000).toFixed(0)} ms at 1 ms`);

type Mode = 'aligned' | 'unaligned' | 'timeout';

async function timeCheckpoints(sinkUs: number, rate: number, mode: Mode, count: number): Promise<CheckpointStats[]> {
  const url = new URL('./jobs/backpressure.ts', import.meta.url);
  url.search = new URLSearchParams({ sinkUs: String(sinkUs), rate: String(rate) }).toString();
  const options: Partial<JobOptions> = {
    parallelism: PARALLELISM, workDir: WORK_DIR, checkpointInterval: 3_600_000, checkpointTimeout: 600_000,
    unaligned: mode !== 'aligned', alignedCheckpointTimeout: mode === 'timeout' ? 100 : 0,
  };
  const job = await submit(url, options);
  // Backpressure builds while the rings fill: the source's rate falls to the sinks'.
  await new Promise((r) => setTimeout(r, FILL_MS));
  const stats: CheckpointStats[] = [];
  for (let i = 0; i < count; i++) stats.push(await job.triggerCheckpoint());
  await job.cancel();
  await job.done.catch(() => {});
  return stats;
}

const results: { label: string; sinkUs: number; mode: Mode | 'no backpressure'; ms: number; persisted: number; alignment: string }[] = [];
const summarize = (label: string, sinkUs: number, mode: Mode | 'no backpressure', s: CheckpointStats[]) => {
  const ms = median(s.map((c) => c.durationMs));
  const persisted = median(s.map((c) => c.persistedBytes));
  results.push({ label, sinkUs, mode, ms, persisted, alignment: s.map((c) => c.alignment).join(' ') });
  console.log(`${label}: median ${ms.toFixed(1)} ms over ${s.length} (${s.map((c) => c.durationMs.toFixed(0)).join(', ')} ms), `
    + `persisted ${formatValue(persisted)} bytes, alignment ${median(s.map((c) => c.alignmentMs)).toFixed(1)} ms, ${s.map((c) => c.alignment).join(' ')}`);
  return ms;
};

// WEIR_BENCH_ONLY=throughput skips to the throughput rounds (WEIR_BENCH_ROUNDS of them, default 3).
const only = process.env.WEIR_BENCH_ONLY;
const ROUNDS = Number(process.env.WEIR_BENCH_ROUNDS ?? 3);
if (only !== 'throughput') {
  const calm = summarize('no backpressure (rate-limited source, sink keeps up)', 0, 'no backpressure',
    await timeCheckpoints(0, 5000, 'unaligned', CHECKPOINTS));
  const calmAligned = summarize('no backpressure, aligned', 0, 'no backpressure', await timeCheckpoints(0, 5000, 'aligned', CHECKPOINTS));
  for (const sinkUs of [200, 1000]) {
    const aligned = summarize(`sink ${sinkUs} us/record, aligned`, sinkUs, 'aligned', await timeCheckpoints(sinkUs, 0, 'aligned', sinkUs >= 1000 ? 2 : CHECKPOINTS));
    const unaligned = summarize(`sink ${sinkUs} us/record, unaligned`, sinkUs, 'unaligned', await timeCheckpoints(sinkUs, 0, 'unaligned', CHECKPOINTS));
    const timeout = summarize(`sink ${sinkUs} us/record, aligned with a 100 ms timeout`, sinkUs, 'timeout', await timeCheckpoints(sinkUs, 0, 'timeout', CHECKPOINTS));
    console.log(`  predicted aligned ~${predicted(sinkUs).toFixed(0)} ms, measured ${aligned.toFixed(0)} ms`);
    record({
      name: `sink ${sinkUs} us/record under backpressure: unaligned checkpoint duration`, value: unaligned, unit: 'ms',
      baseline: { name: 'aligned', value: aligned }, target: { ratio: 0.01, met: unaligned * 100 <= aligned },
    });
    record({
      name: `sink ${sinkUs} us/record under backpressure: unaligned checkpoint duration (vs. no backpressure)`, value: unaligned, unit: 'ms',
      baseline: { name: 'unaligned without backpressure', value: calm }, target: { ratio: 3, met: unaligned <= 3 * calm },
    });
    record({
      name: `sink ${sinkUs} us/record under backpressure: aligned with a 100 ms timeout`, value: timeout, unit: 'ms',
      baseline: { name: 'aligned', value: aligned },
    });
    record({ name: `sink ${sinkUs} us/record: aligned checkpoint duration`, value: aligned, unit: 'ms', baseline: { name: 'predicted from the parameters', value: predicted(sinkUs) } });
}
record({ name: 'no backpressure: aligned checkpoint duration', value: calmAligned, unit: 'ms', baseline: { name: 'unaligned', value: calm } });
}

// Throughput: the CPU-bound keyed count, no checkpoints / aligned / unaligned every 1 s.
const N = 4_000_000;
const countJob = new URL('./jobs/checkpoint-count.ts', import.meta.url);
countJob.search = new URLSearchParams({ n: String(N), domain: String(1_000_000), failAt: '-1' }).toString();
const throughput = async (o: Partial<JobOptions>) => {
  const started = performance.now();
  await (await submit(countJob, { parallelism: PARALLELISM, workDir: WORK_DIR, ...o })).done;
  return N / ((performance.now() - started) / 1000);
};
const [off, aligned, unaligned] = await sampleEach(ROUNDS, [
  () => throughput({}),
  () => throughput({ checkpointInterval: 1000 }),
  () => throughput({ checkpointInterval: 1000, unaligned: true }),
]);
record({ name: 'keyed count (heap) with unaligned checkpoints every 1 s', value: median(unaligned!), unit: 'records/s', samples: unaligned,
  baseline: { name: 'the same job without checkpoints', value: median(off!) }, target: { ratio: 0.95 } });
record({ name: 'keyed count (heap) with aligned checkpoints every 1 s', value: median(aligned!), unit: 'records/s', samples: aligned,
  baseline: { name: 'the same job without checkpoints', value: median(off!) }, target: { ratio: 0.95 } });

if (only !== 'throughput') {
  const svg = barChart({
    title: `Checkpoint duration under backpressure, parallelism ${PARALLELISM} (${os.availableParallelism()} cores, log scale)`,
    unit: 'ms', log: true,
    bars: results.map((r) => ({ label: r.label, value: r.ms, color: r.mode === 'aligned' ? '#d1242f' : r.mode === 'timeout' ? '#bf8700' : '#1f6feb' })),
  });
  const svgPath = fileURLToPath(new URL('./results/unaligned.svg', import.meta.url));
  writeFileSync(svgPath, svg);
  console.log(`chart written to ${svgPath}`);
  console.log(JSON.stringify(results));
}
rmSync(WORK_DIR, { recursive: true, force: true });
writeResults(only === 'throughput' ? 'unaligned-throughput' : 'unaligned');
