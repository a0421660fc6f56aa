// Hosts a KeyedProcessFunction: sets the current key per record, serves keyed state and fires timers.
import { inspect } from 'node:util';
import type { KeyedContext, KeyedProcessFunction, OnTimerContext, TimeDomain, TimerService } from '../../core/api/keyed-process-function.ts';
import type { OperatorContext, Output, StreamOperator } from '../../core/api/operator.ts';
import { WeirError } from '../../core/errors.ts';
import type { KeyedStateBackend } from '../../core/state/backend.ts';
import { StateDescriptor } from '../../core/state/descriptors.ts';
import type { Timer } from '../../core/state/timers.ts';
import { KeyedCore } from './keyed-core.ts';

type Fn = KeyedProcessFunction<unknown, unknown, unknown>;

export function keyedProcessOperator(fn: Fn, keySelector: (v: unknown) => unknown, ctx: OperatorContext,
  backend: KeyedStateBackend): StreamOperator<unknown, unknown> {
  const core = new KeyedCore(ctx, backend);
  const time = ctx.recordTime ?? { value: NaN };
  let out: Output<unknown> | null = null;
  let domain: TimeDomain = 'EVENT_TIME';

  const timers: TimerService = {
    currentProcessingTime: () => ctx.clock.now(),
    currentWatermark: () => core.watermark,
    registerEventTimeTimer: (ts) => core.registerEventTimer(ts),
    registerProcessingTimeTimer: (ts) => core.registerProcessingTimer(ts),
    deleteEventTimeTimer: (ts) => core.deleteEventTimer(ts),
    deleteProcessingTimeTimer: (ts) => core.deleteProcessingTimer(ts),
  };
  const kctx: OnTimerContext<unknown> = {
    get currentKey() { return core.currentKey; },
    state: (d) => core.store.getState(d),
    timerService: () => timers,
    output: (tag, value) => out!.output(tag, value),
    timestamp: () => (Number.isNaN(time.value) ? null : time.value),
    timeDomain: () => domain,
    runtime: ctx,
  };
  const fire = (t: Timer) => {
    core.setKey(t.key);
    // An event-time timer's output carries the timer's timestamp; a processing-time timer's none.
    const carried = time.value;
    time.value = domain === 'EVENT_TIME' ? t.timestamp : NaN;
    try {
      fn.onTimer?.(t.timestamp, kctx, out!);
    } catch (err) {
      if (err instanceof WeirError && err.uid !== undefined) throw err;
      throw new WeirError(`user code failed in onTimer: ${(err as Error)?.message ?? String(err)}`, {
        uid: ctx.uid, subtask: ctx.subtask, cause: err,
        position: `${domain === 'EVENT_TIME' ? 'event' : 'processing'}-time timer ${t.timestamp} of key ${inspect(t.key)}`,
      });
    } finally {
      time.value = carried;
    }
  };

  return {
    open(_, o) {
      out = o;
      // Descriptors held as fields are registered now, not on first use, so every checkpoint's
      // metadata lists them (and a type clash between two of them fails before any record).
      for (const v of Object.values(fn)) if (v instanceof StateDescriptor) core.store.getState(v);
      fn.open?.(ctx, core.store);
    },
    processElement(v, o) {
      out = o;
      core.setKey(keySelector(v));
      fn.processElement(v, kctx as KeyedContext<unknown>, o);
    },
    processWatermark(ts, o) {
      out = o;
      if (!core.advance(ts)) return;
      domain = 'EVENT_TIME';
      core.eventTimers.fireUpTo(ts, fire);
      o.emitWatermark(ts);
    },
    onProcessingTime(now, o) {
      out = o;
      domain = 'PROCESSING_TIME';
      core.processingTimers.fireUpTo(now, fire);
    },
    ...core.hooks(),
    close() {
      fn.close?.();
      backend.close();
    },
  };
}
