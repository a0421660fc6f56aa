// Event time: sensor readings arrive out of order; per sensor and second, the mean temperature, late readings on the side.
// Run it with `npx weir run examples/sensor-windows.ts` (results in out/sensor-windows/, late readings printed).
import { defineJob, fileSink, OutputTag, ProcessWindowFunction, TumblingEventTimeWindows, WatermarkStrategy } from 'weir';
import type { Collector, ProcessWindowFunction as PWF } from 'weir';

export type Reading = { sensor: number; ts: number; celsius: number };
export type Mean = { sensor: number; start: number; end: number; mean: number; readings: number };

/** Reading i of sensor i % 10, at 10 ms steps with up to 300 ms of disorder; every 500th one arrives 5 s late. */
export function reading(i: number): Reading {
  const jitter = (i * 7919) % 300;
  return { sensor: i % 10, ts: 1_700_000_000_000 + 10 * i - jitter - (i % 500 === 499 ? 5000 : 0), celsius: 15 + ((i * 31) % 100) / 10 };
}
export const READINGS = 20_000;
const late = new OutputTag<Reading>('late');

/**
 * Watermarks on events, 500 ms behind the largest timestamp so far: a replay this fast would
 * otherwise see periodic watermarks (every 200 ms of processing time) only at its end.
 */
const onEvents = WatermarkStrategy.forGenerator<Reading>(() => {
  let max = -Infinity;
  return {
    onEvent(_, ts, out) { max = Math.max(max, ts); out.emitWatermark(max - 500 - 1); },
    onPeriodicEmit() {},
  };
}).withTimestampAssigner((r) => r.ts);

class MeanOf extends ProcessWindowFunction<{ sum: number; n: number }, Mean, number> {
  process(sensor: number, ctx: PWF.Context, accs: Iterable<{ sum: number; n: number }>, out: Collector<Mean>) {
    for (const a of accs) out.collect({ sensor, start: ctx.window.start, end: ctx.window.end, mean: a.sum / a.n, readings: a.n });
  }
}

export default defineJob((env) => {
  const means = env.fromCollection(Array.from({ length: READINGS }, (_, i) => reading(i))).uid('readings')
    .assignTimestampsAndWatermarks(onEvents).uid('wm').setParallelism(1)
    .keyBy((r) => r.sensor)
    .window(TumblingEventTimeWindows.of(1000))
    .sideOutputLateData(late)
    .aggregate({
      createAccumulator: () => ({ sum: 0, n: 0 }),
      add: (r, a) => ({ sum: a.sum + r.celsius, n: a.n + 1 }),
      getResult: (a) => a,
    }, new MeanOf()).uid('means');
  means.sinkTo(fileSink('out/sensor-windows', { existing: 'overwrite' })).uid('out');
  means.getSideOutput(late).print('late').uid('late');
});
