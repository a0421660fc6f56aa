// assignTimestampsAndWatermarks: stamps each record with its event time and runs the strategy's watermark generator.
import type { OperatorContext, Output, StreamOperator } from '../../core/api/operator.ts';
import type { WatermarkGenerator, WatermarkOutput, WatermarkStrategy } from '../../core/api/watermarks.ts';
import { WeirError } from '../../core/errors.ts';

interface Snapshot { readonly watermark: number }

/** A split's own generator and what it said: its largest watermark, and whether it is idle. */
interface SplitOutput {
  readonly generator: WatermarkGenerator<unknown>;
  readonly out: WatermarkOutput;
  watermark: number;
  idle: boolean;
}

/**
 * As Flink's TimestampsAndWatermarksOperator: watermarks from upstream are dropped (this
 * operator makes its own) except the final one at the end of input. Unlike Flink, the
 * watermark it emitted is part of its snapshot: after a restore it never emits a lower one,
 * so what downstream decides (late or not) is what a run without the failure decided.
 *
 * `perSplit` (chained to a split source reading its splits side by side): a generator per
 * split, as Flink's split outputs, and the watermark out is the least over the splits not
 * finished and not idle (idle when all are), emitted only when it rises.
 */
export function timestampsOperator(strategy: WatermarkStrategy<unknown>, ctx: OperatorContext, perSplit = false): StreamOperator<unknown, unknown> {
  const assigner = strategy.timestampAssigner;
  const time = ctx.recordTime ?? { value: NaN };
  const interval = Number(ctx.options['autoWatermarkInterval'] ?? 200);
  let emitted = -Infinity;
  let idle = false;
  let out: Output<unknown> | null = null;
  let nextPeriodic = Infinity;
  let seen = 0;
  const register = perSplit ? ctx.sourceSplit : undefined;
  const generator = register === undefined ? strategy.createWatermarkGenerator(ctx) : undefined;
  const splits = new Map<number, SplitOutput>();
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
  /** Splits the source opened since (each holds the watermark back from the start, records or not), less those it finished. */
  const sync = () => {
    const r = register!;
    if (r.opened.length > 0) for (const id of r.opened.splice(0)) splitOf(id);
    if (r.ended.length > 0) for (const id of r.ended.splice(0)) splits.delete(id);
  };
  /** The splits' least watermark to the output, once the ended splits are dropped. */
  const combine = () => {
    sync();
    let least = Infinity;
    let active = 0;
    for (const s of splits.values()) {
      if (s.idle) continue;
      active++;
      if (s.watermark < least) least = s.watermark;
    }
    if (splits.size === 0) return;
    if (active === 0) wmOut.markIdle();
    else {
      wmOut.markActive();
      wmOut.emitWatermark(least);
    }
  };
  const splitOf = (id: number): SplitOutput => {
    let s = splits.get(id);
    if (s !== undefined) return s;
    const split: SplitOutput = {
      generator: strategy.createWatermarkGenerator(ctx),
      watermark: -Infinity,
      idle: false,
      out: {
        emitWatermark(w) {
          const ts = typeof w === 'number' ? w : typeof w === 'object' && w !== null ? w.timestamp : NaN;
          if (typeof ts !== 'number' || Number.isNaN(ts)) {
            throw new WeirError(`the watermark generator emitted ${String(ts)}, not a timestamp`, { uid: ctx.uid, subtask: ctx.subtask });
          }
          split.idle = false;
          if (ts > split.watermark) split.watermark = ts;
          combine();
        },
        markIdle() { split.idle = true; combine(); },
        markActive() { split.idle = false; combine(); },
      },
    };
    splits.set(id, split);
    return split;
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
      if (generator !== undefined) generator.onEvent(v, ts, wmOut);
      else {
        sync();
        const split = splitOf(register!.current);
        split.generator.onEvent(v, ts, split.out);
      }
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
      if (generator !== undefined) generator.onPeriodicEmit(wmOut);
      else {
        for (const split of splits.values()) split.generator.onPeriodicEmit(split.out);
        combine();
      }
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
