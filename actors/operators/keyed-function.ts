// The host of keyed user functions with one or two inputs: the current key per record, keyed state, timers, the function's context.
import { inspect } from 'node:util';
import type { OnTimerContext, TimeDomain, TimerService } from '../../core/api/keyed-process-function.ts';
import type { OperatorContext, Output, StreamOperator } from '../../core/api/operator.ts';
import { WeirError } from '../../core/errors.ts';
import type { KeyedStateBackend } from '../../core/state/backend.ts';
import { StateDescriptor } from '../../core/state/descriptors.ts';
import type { KeyedStateStore } from '../../core/state/keyed-state.ts';
import type { Timer } from '../../core/state/timers.ts';
import { KeyedCore } from './keyed-core.ts';
import { fresh } from '../runtime/fresh.ts';

type Ctx = OnTimerContext<unknown>;

/** What a keyed function operator calls: its inputs (each with its key), its timers, open and close. */
export interface KeyedFunctionSpec {
  /** The user's function object: its StateDescriptor fields are registered at open. */
  readonly fn: object;
  readonly input1: { readonly key: (v: unknown) => unknown; readonly call: (v: unknown, ctx: Ctx, out: Output<unknown>) => void };
  /** A keyed second input (connect(...).keyBy), or an unkeyed one called without a current key (broadcast). */
  readonly input2?: { readonly key?: (v: unknown) => unknown; readonly call: (v: unknown, ctx: Ctx, out: Output<unknown>) => void };
  readonly onTimer?: (ts: number, ctx: Ctx, out: Output<unknown>) => void;
  readonly open?: (store: KeyedStateStore) => void;
  readonly close?: () => void;
  /** More on the context (the broadcast state pattern's getBroadcastState). */
  readonly extend?: (ctx: Ctx, core: KeyedCore) => Ctx;
  /** Runs in the operator's snapshotState before the keyed state is taken (the broadcast state into its lists). */
  readonly beforeSnapshot?: () => void;
}

export function keyedFunctionOperator(spec: KeyedFunctionSpec, ctx: OperatorContext, backend: KeyedStateBackend): StreamOperator<unknown, unknown> {
  const core = new KeyedCore(ctx, backend);
  const time = ctx.recordTime ?? { value: NaN };
  /** The output of the call in progress (ctx.output and timers emit to it). */
  const at: { out: Output<unknown> | null } = { out: null };
  let domain: TimeDomain = 'EVENT_TIME';
  /** The timer being fired (NaN outside onTimer). */
  let firing = NaN;

  const timers: TimerService = {
    currentProcessingTime: () => ctx.clock.now(),
    currentWatermark: () => core.watermark,
    registerEventTimeTimer: (ts) => core.registerEventTimer(ts),
    registerProcessingTimeTimer: (ts) => core.registerProcessingTimer(ts),
    deleteEventTimeTimer: (ts) => core.deleteEventTimer(ts),
    deleteProcessingTimeTimer: (ts) => core.deleteProcessingTimer(ts),
  };
  const base: Ctx = {
    get currentKey() { return core.currentKey; },
    state: (d) => core.store.getState(d),
    timerService: () => timers,
    output: (tag, value) => at.out!.output(tag, value),
    // In onTimer, the timer's time (also for processing time, whose output carries none), as Flink's OnTimerContext.
    timestamp: () => (!Number.isNaN(firing) ? firing : Number.isNaN(time.value) ? null : time.value),
    timeDomain: () => domain,
    runtime: ctx,
  };
  const kctx = spec.extend?.(base, core) ?? base;
  const fire = (t: Timer) => {
    core.setTimerKey(t);
    // An event-time timer's output carries the timer's timestamp; a processing-time timer's none.
    const carried = time.value;
    time.value = domain === 'EVENT_TIME' ? t.timestamp : NaN;
    firing = t.timestamp;
    try {
      spec.onTimer?.(t.timestamp, kctx, at.out!);
    } catch (err) {
      if (err instanceof WeirError && err.uid !== undefined) throw err;
      throw new WeirError(`user code failed in onTimer: ${(err as Error)?.message ?? String(err)}`, {
        uid: ctx.uid, subtask: ctx.subtask, cause: err,
        position: `${domain === 'EVENT_TIME' ? 'event' : 'processing'}-time timer ${t.timestamp} of key ${inspect(t.key)}`,
      });
    } finally {
      time.value = carried;
      firing = NaN;
    }
  };
  const { input1, input2 } = spec;
  const key1 = input1.key;
  const call1 = input1.call;
  const hooks = core.hooks();

  return {
    open(_, o) {
      at.out = o;
      // Descriptors held as fields are registered now, not on first use, so every checkpoint's
      // metadata lists them (and a type clash between two of them fails before any record).
      for (const v of Object.values(spec.fn)) if (v instanceof StateDescriptor) core.store.getState(v);
      spec.open?.(core.store);
    },
    // Compiled for this operator alone (fresh): as a method here, the calls of the key selector
    // and of the user's function were call sites shared by every keyed operator of the worker
    // and of every job its warm slots ran, so they turned polymorphic and were not inlined.
    processElement: fresh<(v: unknown, o: Output<unknown>) => void>(['key1', 'call1', 'core', 'kctx', 'at'],
      'return function processElement(v, o) { at.out = o; core.setKey(key1(v)); call1(v, kctx, o); };', key1, call1, core, kctx, at),
    ...(input2 === undefined ? {} : {
      processElement2(v: unknown, o: Output<unknown>) {
        at.out = o;
        if (input2.key !== undefined) core.setKey(input2.key(v));
        input2.call(v, kctx, o);
      },
    }),
    processWatermark(ts, o) {
      at.out = o;
      if (!core.advance(ts)) return;
      domain = 'EVENT_TIME';
      core.eventTimers.fireUpTo(ts, fire);
      o.emitWatermark(ts);
    },
    onProcessingTime(now, o) {
      at.out = o;
      domain = 'PROCESSING_TIME';
      core.processingTimers.fireUpTo(now, fire);
    },
    ...hooks,
    snapshotState(id) {
      spec.beforeSnapshot?.();
      return hooks.snapshotState!(id);
    },
    close() {
      spec.close?.();
      backend.close();
    },
  };
}
