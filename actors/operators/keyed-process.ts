// Hosts a KeyedProcessFunction: sets the current key per record, serves keyed state and fires timers.
import { inspect } from 'node:util';
import type { KeyedContext, KeyedProcessFunction, OnTimerContext, TimeDomain, TimerService } from '../../core/api/keyed-process-function.ts';
import type { OperatorContext, Output, StreamOperator } from '../../core/api/operator.ts';
import { WeirError } from '../../core/errors.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { keyGroupCache, keyGroupRangeForOperator } from '../../core/keys/key-groups.ts';
import type { BackendSnapshot, KeyedStateBackend } from '../../core/state/backend.ts';
import { StateDescriptor } from '../../core/state/descriptors.ts';
import { KeyedStateStore } from '../../core/state/keyed-state.ts';
import { TimerQueue } from '../../core/state/timers.ts';
import type { Timer } from '../../core/state/timers.ts';

type Fn = KeyedProcessFunction<unknown, unknown, unknown>;

interface KeyedOperatorSnapshot {
  readonly state: BackendSnapshot;
  readonly eventTimers: [number, Key, number][];
  readonly processingTimers: [number, Key, number][];
  readonly watermark: number;
}

export function keyedProcessOperator(fn: Fn, keySelector: (v: unknown) => unknown, ctx: OperatorContext,
  backend: KeyedStateBackend): StreamOperator<unknown, unknown> {
  const store = new KeyedStateStore(backend, ctx.clock, ctx.uid);
  const eventTimers = new TimerQueue();
  const processingTimers = new TimerQueue();
  let watermark = -Infinity;
  let out: Output<unknown> | null = null;
  let domain: TimeDomain = 'EVENT_TIME';

  const groupOf = keyGroupCache(ctx.maxParallelism);
  const setKey = (key: unknown) => {
    let keyGroup: number;
    try {
      keyGroup = groupOf(key as Key);
    } catch (err) {
      throw new WeirError(`keyBy produced a key that cannot be used: ${(err as Error).message}`, { uid: ctx.uid, subtask: ctx.subtask, cause: err });
    }
    backend.setCurrentKey({ key: key as Key, keyGroup });
  };

  const timers: TimerService = {
    currentProcessingTime: () => ctx.clock.now(),
    currentWatermark: () => watermark,
    registerEventTimeTimer: (ts) => eventTimers.register(ts, backend.currentKey.key, backend.currentKey.keyGroup),
    registerProcessingTimeTimer: (ts) => processingTimers.register(ts, backend.currentKey.key, backend.currentKey.keyGroup),
    deleteEventTimeTimer: (ts) => eventTimers.delete(ts, backend.currentKey.key, backend.currentKey.keyGroup),
    deleteProcessingTimeTimer: (ts) => processingTimers.delete(ts, backend.currentKey.key, backend.currentKey.keyGroup),
  };
  const kctx: OnTimerContext<unknown> = {
    get currentKey() { return backend.currentKey.key; },
    state: (d) => store.getState(d),
    timerService: () => timers,
    output: (tag, value) => out!.output(tag, value),
    timeDomain: () => domain,
    runtime: ctx,
  };
  const fire = (t: Timer) => {
    backend.setCurrentKey({ key: t.key, keyGroup: t.keyGroup });
    try {
      fn.onTimer?.(t.timestamp, kctx, out!);
    } catch (err) {
      if (err instanceof WeirError && err.uid !== undefined) throw err;
      throw new WeirError(`user code failed in onTimer: ${(err as Error)?.message ?? String(err)}`, {
        uid: ctx.uid, subtask: ctx.subtask, cause: err,
        position: `${domain === 'EVENT_TIME' ? 'event' : 'processing'}-time timer ${t.timestamp} of key ${inspect(t.key)}`,
      });
    }
  };

  return {
    open(_, o) {
      out = o;
      // Descriptors held as fields are registered now, not on first use, so every checkpoint's
      // metadata lists them (and a type clash between two of them fails before any record).
      for (const v of Object.values(fn)) if (v instanceof StateDescriptor) store.getState(v);
      fn.open?.(ctx, store);
    },
    processElement(v, o) {
      out = o;
      setKey(keySelector(v));
      fn.processElement(v, kctx as KeyedContext<unknown>, o);
    },
    processWatermark(ts, o) {
      out = o;
      watermark = ts;
      domain = 'EVENT_TIME';
      eventTimers.fireUpTo(ts, fire);
      o.emitWatermark(ts);
    },
    onProcessingTime(now, o) {
      out = o;
      domain = 'PROCESSING_TIME';
      processingTimers.fireUpTo(now, fire);
    },
    nextProcessingTime: () => processingTimers.nextTimestamp(),
    stateDescriptors: () => store.describe(),
    snapshotState: (id) => ({
      state: backend.snapshot(ctx.snapshotTarget?.(id), ctx.isSavepoint?.(id) === true), eventTimers: eventTimers.snapshot(), processingTimers: processingTimers.snapshot(), watermark,
    }),
    initializeState(s) {
      const snap = s as KeyedOperatorSnapshot;
      backend.restore(snap.state);
      const { start, end } = keyGroupRangeForOperator(ctx.maxParallelism, ctx.parallelism, ctx.subtask);
      const owns = (kg: number) => kg >= start && kg <= end;
      eventTimers.restore(snap.eventTimers, owns);
      processingTimers.restore(snap.processingTimers, owns);
      // Unlike Flink (which starts again from -infinity), the watermark comes back with the state.
      watermark = snap.watermark;
    },
    initializeRescaledState(parts) {
      const mine = keyGroupRangeForOperator(ctx.maxParallelism, ctx.parallelism, ctx.subtask);
      const owns = (kg: number) => kg >= mine.start && kg <= mine.end;
      let least = Infinity;
      for (const part of parts) {
        const snap = part.state as KeyedOperatorSnapshot;
        // Every old subtask's watermark bounds what this one may have seen: the least of them.
        least = Math.min(least, snap.watermark);
        const theirs = keyGroupRangeForOperator(ctx.maxParallelism, part.parallelism, part.subtask);
        if (theirs.end < mine.start || theirs.start > mine.end) continue;
        backend.restore(snap.state);
        eventTimers.restore(snap.eventTimers, owns);
        processingTimers.restore(snap.processingTimers, owns);
      }
      watermark = parts.length === 0 ? -Infinity : least;
    },
    close() {
      fn.close?.();
      backend.close();
    },
  };
}
