// Windowed aggregation for window.bench.ts: generated events, event-time windows per key, a sum per window.
// ?n=records &keys=k &span=event-time ms the records cover &window=tumbling|sliding|session|keyed
// Events come in timestamp order; a watermark every 200 ms of event time. `keyed` is the
// ceiling beneath every window: the same events, timestamps and keyBy into a keyed function
// that only adds each event to a ValueState of its key (no windows, no timers, no output).
import {
  defineJob, EventTimeSessionWindows, KeyedProcessFunction, SlidingEventTimeWindows, TumblingEventTimeWindows, ValueStateDescriptor,
  WatermarkStrategy,
} from '../../core/index.ts';
import type { Collector, KeyedContext, SourceOperator, WatermarkOutput } from '../../core/index.ts';

const q = new URL(import.meta.url).searchParams;
const n = Number(q.get('n'));
const keys = Number(q.get('keys') ?? 10_000);
const span = Number(q.get('span') ?? 20_000);
const kind = q.get('window') ?? 'tumbling';

export type WEv = { k: number; ts: number; v: number };
/** Event i: key i mod keys, time i * span / n (in order), value i mod 7. */
export const windowEvent = (i: number, n: number, keys: number, span: number): WEv => ({ k: i % keys, ts: Math.floor((i * span) / n), v: i % 7 });

/**
 * Watermarks every 200 ms of event time, on events (as the loop fires its windows): periodic
 * ones (every 200 ms of processing time) would come a few times in a run this fast, and every
 * window would wait for the end of input.
 */
const strategy = WatermarkStrategy.forGenerator<WEv>(() => {
  let last = -Infinity;
  return {
    onEvent(_: WEv, ts: number, out: WatermarkOutput) { if (ts - 1 >= last + 200) out.emitWatermark((last = ts - 1)); },
    onPeriodicEmit() {},
  };
}).withTimestampAssigner((e) => e.ts);

class SumPerKey extends KeyedProcessFunction<number, WEv, never> {
  sum = new ValueStateDescriptor<number>('sum', 0);
  processElement(e: WEv, ctx: KeyedContext<number>, _out: Collector<never>) {
    const s = ctx.state(this.sum);
    s.update(s.value() + e.v);
  }
}

export default defineJob((env) => {
  const assigner = kind === 'sliding' ? SlidingEventTimeWindows.of<WEv>(10_000, 2_000)
    : kind === 'session' ? EventTimeSessionWindows.withGap<WEv>(1_000) : TumblingEventTimeWindows.of<WEv>(1_000);
  const keyed = env.fromSource((ctx): SourceOperator<WEv> => {
    // Subtask s of p emits events s, s + p, s + 2p, ...: the subtasks move through event time together.
    let next = ctx.subtask;
    const step = ctx.parallelism;
    return {
      emitBatch(emit, max) {
        for (let i = 0; i < max && next < n; i++, next += step) emit(windowEvent(next, n, keys, span));
        return next < n;
      },
    };
  }, strategy, 'Events').uid('events')
    .keyBy((e) => e.k);
  if (kind === 'keyed') {
    keyed.process(new SumPerKey()).uid('windows').discard().uid('sink');
    return;
  }
  keyed.window(assigner)
    .aggregate({
      createAccumulator: () => 0, add: (e: WEv, a: number) => a + e.v, getResult: (a: number) => a,
      merge: (a: number, b: number) => a + b,
    }).uid('windows')
    .discard().uid('sink');
});
