// Windowed aggregation: weir's event-time windows at parallelism 2 beside a hand-written single-thread loop of the same aggregation.
//
// 1M generated events over 10K keys spanning 20 s of event time, in order, a watermark every
// 200 ms of event time (on events); a sum per key and window: tumbling 1 s, sliding
// 10 s / 2 s, sessions with a 1 s gap. The loop generates the same events and keeps, per key,
// the open windows' sums in a Map, emitting a window when the event time passes its end (it
// counts the windows it emits, and weir's count of window results must equal it). weir runs
// the whole job (start-up included) on the heap backend, with 1M and 2M events: the steady
// state is the second million's records over the time they added (start-up taken out).
// Expect: weir at p2 >= 0.5x the loop for tumbling and session; sliding reported beside them.
// First row, the ceiling beneath them all: the same events, timestamps and keyBy into a keyed
// function that adds each event to a ValueState (no windows), beside a loop summing per key.
// Run: npm run bench -- window
import os from 'node:os';
import { submit } from '../core/index.ts';
import { windowEvent } from './jobs/windowed.ts';
import { formatValue, median, record, writeResults } from './lib/report.ts';

const N = 1_000_000;
const KEYS = 10_000;
const SPAN = 20_000;
const RUNS = 5;

type Kind = 'keyed' | 'tumbling' | 'sliding' | 'session';

/** The same aggregation by hand: per key its open windows (start -> sum), fired once event time passes their end. */
function loop(kind: Kind): number {
  let fired = 0;
  if (kind === 'keyed') {
    // The ceiling's loop: a sum per key, nothing emitted.
    const sum = new Float64Array(KEYS);
    for (let i = 0; i < N; i++) { const e = windowEvent(i, N, KEYS, SPAN); sum[e.k]! += e.v; }
    return sum[0]! < 0 ? 1 : 0;
  }
  if (kind === 'session') {
    const last = new Float64Array(KEYS).fill(-Infinity);
    const sum = new Float64Array(KEYS);
    let sink = 0;
    for (let i = 0; i < N; i++) {
      const e = windowEvent(i, N, KEYS, SPAN);
      if (e.ts - last[e.k]! > 1000) { if (last[e.k] !== -Infinity) { fired++; sink += sum[e.k]!; } sum[e.k] = 0; }
      sum[e.k]! += e.v;
      last[e.k] = e.ts;
    }
    for (let k = 0; k < KEYS; k++) if (last[k] !== -Infinity) { fired++; sink += sum[k]!; }
    return fired + (sink < 0 ? 1 : 0);
  }
  const size = kind === 'tumbling' ? 1000 : 10_000;
  const slide = kind === 'tumbling' ? 1000 : 2000;
  const open = Array.from({ length: KEYS }, () => new Map<number, number>());
  let watermark = -Infinity;
  const fireUpTo = (wm: number) => {
    for (const m of open) for (const [start, s] of m) if (start + size - 1 <= wm) { m.delete(start); fired++; if (s < 0) fired++; }
  };
  for (let i = 0; i < N; i++) {
    const e = windowEvent(i, N, KEYS, SPAN);
    const m = open[e.k]!;
    for (let start = e.ts - (e.ts % slide); start > e.ts - size; start -= slide) m.set(start, (m.get(start) ?? 0) + e.v);
    // As the job's watermarks: every 200 ms of event time, the open windows that ended fire.
    if (e.ts - 1 >= watermark + 200) { watermark = e.ts - 1; fireUpTo(watermark); }
  }
  fireUpTo(Infinity);
  return fired;
}

async function job(kind: Kind, n = N): Promise<{ ms: number; windows: number }> {
  const url = new URL('./jobs/windowed.ts', import.meta.url);
  // Twice the records over twice the event time: the same windows per key and second.
  url.search = `?n=${n}&keys=${KEYS}&span=${(SPAN * n) / N}&window=${kind}`;
  const started = performance.now();
  const r = await (await submit(url, { parallelism: 2 })).done;
  const ms = performance.now() - started;
  if (r.operators['events']!.recordsOut !== n) throw new Error(`${kind}: the source emitted ${r.operators['events']!.recordsOut} of ${n}`);
  return { ms, windows: r.operators['windows']!.recordsOut };
}

console.log(`windowed aggregation, ${N} events, ${KEYS} keys, ${os.availableParallelism()} cores, ${RUNS} rounds (median)`);
let ceiling = NaN;
for (const kind of ['keyed', 'tumbling', 'sliding', 'session'] as const) {
  const loopMs: number[] = [];
  const jobMs: number[] = [];
  const job2Ms: number[] = [];
  let expected = 0;
  for (let r = 0; r <= RUNS; r++) {
    const t0 = performance.now();
    expected = loop(kind);
    const l = performance.now() - t0;
    const j = await job(kind);
    if (j.windows !== expected) throw new Error(`${kind}: weir emitted ${j.windows} window results, the loop ${expected}`);
    const j2 = await job(kind, 2 * N);
    if (r === 0) continue; // warm-up round
    loopMs.push(l);
    jobMs.push(j.ms);
    job2Ms.push(j2.ms);
  }
  const loopRate = N / (median(loopMs) / 1000);
  const jobRate = N / (median(jobMs) / 1000);
  // Steady state, as pipeline.bench.ts: the second million's records over the time they added (start-up taken out).
  const steadyRate = N / ((median(job2Ms) - median(jobMs)) / 1000);
  console.log(`${kind}: ${expected} windows; loop ${formatValue(loopRate)} rec/s (${median(loopMs).toFixed(0)} ms), `
    + `weir p2 whole job ${formatValue(jobRate)} rec/s (${median(jobMs).toFixed(0)} ms): ${(jobRate / loopRate).toFixed(2)}x; `
    + `steady ${formatValue(steadyRate)} rec/s: ${(steadyRate / loopRate).toFixed(2)}x`);
  if (kind === 'keyed') {
    // The ceiling beneath every window: the same events, timestamps, keyBy and a ValueState per key.
    ceiling = steadyRate;
    record({ name: 'keyed ValueState sum (no windows), p2 steady state', unit: 'records/s', value: steadyRate,
      baseline: { name: 'hand-written single-thread loop', value: loopRate } });
    record({ name: 'keyed ValueState sum (no windows), p2 whole job', unit: 'records/s', value: jobRate, samples: jobMs,
      baseline: { name: 'hand-written single-thread loop', value: loopRate } });
    continue;
  }
  console.log(`  ${kind} steady: ${(steadyRate / ceiling).toFixed(2)}x of the keyed ceiling; the ceiling is ${(ceiling / loopRate).toFixed(2)}x of this loop`);
  record({
    name: `window ${kind}, p2 steady state`, unit: 'records/s', value: steadyRate,
    baseline: { name: 'hand-written single-thread loop', value: loopRate },
    ...(kind === 'sliding' ? {} : { target: { ratio: 0.5 } }),
  });
  record({
    name: `window ${kind}, p2 whole job`, unit: 'records/s', value: jobRate, samples: jobMs,
    baseline: { name: 'hand-written single-thread loop', value: loopRate },
  });
}
writeResults('window');
