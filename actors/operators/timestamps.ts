// assignTimestampsAndWatermarks: stamps each record with its event time and runs the strategy's watermark generator.
import type { OperatorContext, Output, StreamOperator } from '../../core/api/operator.ts';
import type { WatermarkOutput, WatermarkStrategy } from '../../core/api/watermarks.ts';
import { WeirError } from '../../core/errors.ts';

interface Snapshot { readonly watermark: number }

/**
 * As Flink's TimestampsAndWatermarksOperator: watermarks from upstream are dropped (this
 * operator makes its own) except the final one at the end of input. Unlike Flink, the
 * watermark it emitted is part of its snapshot: after a restore it never emits a lower one,
 * so what downstream decides (late or not) is what a run without the failure decided.
 */
export function timestampsOperator(strategy: WatermarkStrategy<unknown>, ctx: OperatorContext): StreamOperator<unknown, unknown> {
  const assigner = strategy.timestampAssigner;
  const time = ctx.recordTime ?? { value: NaN };
  const interval = Number(ctx.options['autoWatermarkInterval'] ?? 200);
  let emitted = -Infinity;
  let idle = false;
  let out: Output<unknown> | null = null;
  let nextPeriodic = Infinity;
  let seen = 0;
  const generator = strategy.createWatermarkGenerator(ctx);
  const active = () => {
    if (!idle) return;
    idle = false;
    out!.emitWatermarkStatus?.(false);
  };
  const wmOut: WatermarkOutput = {
    emitWatermark(w) {
      const ts = typeof w === 'number' ? w : typeof w === 'object' && w !== null ? w.timestamp : NaN;
      if (typeof ts !== 'number' || Number.isNaN(ts)) {
        throw new WeirError(`the watermark generator emitted ${String(ts)}, not a timestamp`, { uid: ctx.uid, subtask: ctx.subtask });
      }
      if (ts <= emitted) return;
      active();
      emitted = ts;
      out!.emitWatermark(ts);
    },
    markIdle() {
      if (idle) return;
      idle = true;
      out!.emitWatermarkStatus?.(true);
    },
    markActive: active,
  };
  return {
    open(_, o) {
      out = o;
      if (interval > 0) nextPeriodic = ctx.clock.now() + interval;
    },
    processElement(v, o) {
      out = o;
      const carried = time.value;
      const ts = assigner === undefined ? carried : assigner(v, carried);
      seen++;
      if (typeof ts !== 'number' || !Number.isFinite(ts)) {
        throw new WeirError(`the timestamp of a record must be a finite number of ms, got ${typeof ts === 'number' ? ts : `${typeof ts} ${String(ts)}`}`
          + (assigner === undefined ? ' (the record carries no timestamp: give the strategy withTimestampAssigner(...))' : ''),
        { uid: ctx.uid, subtask: ctx.subtask, position: `input record ${seen - 1}` });
      }
      // As Flink: the record first, then the generator sees it (a watermark it emits comes after the record).
      time.value = ts;
      o.collect(v);
      time.value = carried;
      generator.onEvent(v, ts, wmOut);
    },
    processWatermark(ts, o) {
      out = o;
      // Only the end of input's watermark passes: the generator decides the rest.
      if (ts === Infinity) wmOut.emitWatermark(Infinity);
    },
    processWatermarkStatus() {},
    nextProcessingTime: () => nextPeriodic,
    onProcessingTime(now, o) {
      out = o;
      nextPeriodic = now + interval;
      generator.onPeriodicEmit(wmOut);
    },
    snapshotState: () => ({ watermark: emitted } satisfies Snapshot),
    initializeState(s) {
      emitted = (s as Snapshot).watermark;
    },
    initializeRescaledState(parts) {
      // The least of the old subtasks' watermarks: none of the records a new subtask gets is behind it.
      emitted = parts.reduce((m, p) => Math.min(m, (p.state as Snapshot).watermark), Infinity);
      if (parts.length === 0) emitted = -Infinity;
    },
  };
}
