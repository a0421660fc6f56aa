// Windowed aggregation for window.bench.ts: generated events, event-time windows per key, a sum per window.
// ?n=records &keys=k &span=event-time ms the records cover &window=tumbling|sliding|session
import { defineJob, EventTimeSessionWindows, SlidingEventTimeWindows, TumblingEventTimeWindows, WatermarkStrategy } from '../../core/index.ts';
import type { SourceOperator } from '../../core/index.ts';

const q = new URL(import.meta.url).searchParams;
const n = Number(q.get('n'));
const keys = Number(q.get('keys') ?? 10_000);
const span = Number(q.get('span') ?? 20_000);
const kind = q.get('window') ?? 'tumbling';

export type WEv = { k: number; ts: number; v: number };
/** Event i: key i mod keys, time i * span / n (in order), value i mod 7. */
export const windowEvent = (i: number, n: number, keys: number, span: number): WEv => ({ k: i % keys, ts: Math.floor((i * span) / n), v: i % 7 });

export default defineJob((env) => {
  const assigner = kind === 'sliding' ? SlidingEventTimeWindows.of<WEv>(10_000, 2_000)
    : kind === 'session' ? EventTimeSessionWindows.withGap<WEv>(1_000) : TumblingEventTimeWindows.of<WEv>(1_000);
  env.fromSource((ctx): SourceOperator<WEv> => {
    let next = Math.floor((n * ctx.subtask) / ctx.parallelism);
    const end = Math.floor((n * (ctx.subtask + 1)) / ctx.parallelism);
    return {
      emitBatch(emit, max) {
        const stop = Math.min(end, next + max);
        for (; next < stop; next++) emit(windowEvent(next, n, keys, span));
        return next < end;
      },
    };
  }, WatermarkStrategy.forMonotonousTimestamps<WEv>().withTimestampAssigner((e) => e.ts), 'Events').uid('events')
    .keyBy((e) => e.k)
    .window(assigner)
    .aggregate({
      createAccumulator: () => 0, add: (e: WEv, a: number) => a + e.v, getResult: (a: number) => a,
      merge: (a: number, b: number) => a + b,
    }).uid('windows')
    .discard().uid('sink');
});
