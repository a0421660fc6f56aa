// The window operator: assigns records to windows per key, keeps their contents in keyed state, fires by trigger, cleans up after lateness.
import { inspect } from 'node:util';
import type { OperatorContext, Output, OutputTag, StreamOperator } from '../../core/api/operator.ts';
import { EventTimeTrigger, GlobalWindow, TimeWindow, TimestampedValue, TriggerResult } from '../../core/api/windows.ts';
import type {
  Evictor, EvictorContext, OnMergeContext, PartitionedState, ProcessWindowContext, ProcessWindowFunction, Trigger, Window, WindowAssigner, WindowStateStore,
} from '../../core/api/windows.ts';
import { WeirError } from '../../core/errors.ts';
import type { KeyedStateBackend } from '../../core/state/backend.ts';
import { MapStateDescriptor, StateDescriptor, ValueStateDescriptor } from '../../core/state/descriptors.ts';
import type { AggregateFunction, ReducingStateDescriptor } from '../../core/state/descriptors.ts';
import type { MapState, ValueState } from '../../core/state/keyed-state.ts';
import type { Timer } from '../../core/state/timers.ts';
import { KeyedCore } from './keyed-core.ts';
import { AllWindowAdapter } from '../../core/api/windowed-stream.ts';

/** What a window keeps per key and window, and what it emits. */
export type WindowContents =
  | { readonly kind: 'reduce'; readonly reduce: (a: unknown, b: unknown) => unknown; readonly windowFn?: WindowFn }
  | { readonly kind: 'aggregate'; readonly aggregate: AggregateFunction<unknown, unknown, unknown> & { merge?(a: unknown, b: unknown): unknown }; readonly windowFn?: WindowFn }
  | { readonly kind: 'process'; readonly windowFn: WindowFn };

type WindowFn = ProcessWindowFunction<unknown, unknown, unknown, Window>;

export interface WindowSpec {
  readonly assigner: WindowAssigner<unknown, Window>;
  readonly trigger: Trigger<unknown, Window> | undefined;
  /** With one, a window keeps its elements (with their timestamps) whatever its contents kind, and reduces or aggregates them when it fires. */
  readonly evictor?: Evictor<unknown, Window> | undefined;
  readonly allowedLateness: number;
  readonly lateTag: OutputTag<unknown> | undefined;
  readonly contents: WindowContents;
}

/** A live window of a key: start, end, whether it has contents (1) or was purged (0), and the contents. */
type LiveWindow = [number, number, 0 | 1, unknown];

/**
 * As Flink's WindowOperator. Per key, one value `__weir.windows` lists its live windows with
 * their contents (accumulator, elements, or elements with timestamps under an evictor);
 * triggers' and window functions' per-window state is a map per descriptor from window to
 * value. Timers carry the window as their namespace.
 * All of it is keyed state and timers of the backend, so windows checkpoint, restore and
 * rescale as any keyed state does.
 */
export function windowOperator(spec: WindowSpec, keySelector: (v: unknown) => unknown, ctx: OperatorContext,
  backend: KeyedStateBackend): StreamOperator<unknown, unknown> {
  const core = new KeyedCore(ctx, backend);
  const time = ctx.recordTime ?? { value: NaN };
  const { assigner, allowedLateness, lateTag, contents, evictor } = spec;
  const trigger = spec.trigger ?? assigner.getDefaultTrigger();
  const defaultEventTrigger = trigger.constructor === EventTimeTrigger;
  const eventTime = assigner.isEventTime();
  const merging = assigner.isMerging();
  if (merging && !trigger.canMerge()) {
    throw new WeirError(`trigger ${trigger.constructor.name} cannot be used with session (merging) windows`, { uid: ctx.uid, subtask: ctx.subtask });
  }
  const windowFn = contents.windowFn;
  // A window's id ('start:end') is its timers' namespace and its per-window state's key. Many
  // keys share each window (every key's tumbling window of one second): the last id made and
  // the last one parsed are kept, not made again per record and per timer.
  let idStart = NaN;
  let idEnd = NaN;
  let idMade = '';
  const idOf = (w: Window): string => {
    if (w instanceof GlobalWindow) return 'global';
    if (w.start !== idStart || w.end !== idEnd) { idStart = w.start; idEnd = w.end; idMade = `${w.start}:${w.end}`; }
    return idMade;
  };
  let idParsed = '';
  let parsed: Window = GlobalWindow.INSTANCE;
  const windowOf = (id: string): Window => {
    if (id === idParsed) return parsed;
    const at = id.indexOf(':');
    idParsed = id;
    return (parsed = id === 'global' ? GlobalWindow.INSTANCE : new TimeWindow(Number(id.slice(0, at)), Number(id.slice(at + 1))));
  };
  let out: Output<unknown> | null = null;
  let seen = 0;
  const lateDropped = ctx.counter?.('numLateRecordsDropped');

  // Per key, its live windows: [start, end, has contents, accumulator or elements], a few
  // at a time (tumbling 1-2, sliding size/slide, sessions the open ones), found by a scan.
  let windowsOfKey!: ValueState<LiveWindow[] | undefined>;
  let live: LiveWindow[] = [];
  const find = (w: Window): number => {
    for (let i = 0; i < live.length; i++) if (live[i]![0] === w.start && live[i]![1] === w.end) return i;
    return -1;
  };
  const load = () => { live = windowsOfKey.value() ?? []; };
  const store = () => { if (live.length === 0) windowsOfKey.clear(); else windowsOfKey.update(live); };
  const perWindow = new Map<string, MapState<string, unknown>>();
  const mapOf = (d: StateDescriptor<unknown>): MapState<string, unknown> => {
    let m = perWindow.get(d.name);
    if (m === undefined) perWindow.set(d.name, (m = core.store.getState(new MapStateDescriptor<string, unknown>(`__weir.window.${d.name}`))));
    return m;
  };

  /** `d`'s state of the current key in window `ns`. */
  const partitioned = <D extends StateDescriptor<unknown>>(d: D, ns: () => string): PartitionedState<D> => {
    const m = mapOf(d);
    const kind = d.kind;
    if (kind === 'value') {
      const def = (d as unknown as { defaultValue: unknown }).defaultValue;
      return { value: () => m.get(ns()) ?? def, update: (v: unknown) => m.put(ns(), v), clear: () => m.remove(ns()) } as unknown as PartitionedState<D>;
    }
    if (kind === 'reducing') {
      const reduce = (d as unknown as ReducingStateDescriptor<unknown>).reduce;
      return {
        get: () => m.get(ns()),
        add: (v: unknown) => { const cur = m.get(ns()); m.put(ns(), cur === undefined ? v : reduce(cur, v)); },
        clear: () => m.remove(ns()),
      } as unknown as PartitionedState<D>;
    }
    if (kind === 'list') {
      const get = () => (m.get(ns()) as unknown[] | undefined) ?? [];
      return {
        get,
        add: (v: unknown) => m.put(ns(), [...get(), v]),
        addAll: (vs: readonly unknown[]) => m.put(ns(), [...get(), ...vs]),
        update: (vs: readonly unknown[]) => m.put(ns(), [...vs]),
        clear: () => m.remove(ns()),
      } as unknown as PartitionedState<D>;
    }
    throw new WeirError(`window and trigger state supports value, reducing and list states, not ${kind} ('${d.name}')`, { uid: ctx.uid, subtask: ctx.subtask });
  };

  // Handles of the current window's state, one per descriptor (they read the window when called).
  const handles = new Map<string, unknown>();
  const windowHandle = <D extends StateDescriptor<unknown>>(d: D): PartitionedState<D> => {
    let h = handles.get(d.name);
    if (h === undefined) handles.set(d.name, (h = partitioned(d, currentId)));
    return h as PartitionedState<D>;
  };

  // The window the trigger and window function calls are about.
  let current: Window = GlobalWindow.INSTANCE;
  let mergedAway: Window[] = [];
  const currentId = () => idOf(current);
  const windowState: WindowStateStore = {
    getState: (d) => {
      if (merging) {
        throw new WeirError('per-window state is not allowed with session (merging) windows, as in Flink: use globalState', { uid: ctx.uid, subtask: ctx.subtask });
      }
      return windowHandle(d);
    },
  };
  const tctx: OnMergeContext = {
    getCurrentProcessingTime: () => ctx.clock.now(),
    getCurrentWatermark: () => core.watermark,
    registerProcessingTimeTimer: (t) => core.registerProcessingTimer(t, currentId()),
    registerEventTimeTimer: (t) => core.registerEventTimer(t, currentId()),
    deleteProcessingTimeTimer: (t) => core.deleteProcessingTimer(t, currentId()),
    deleteEventTimeTimer: (t) => core.deleteEventTimer(t, currentId()),
    getPartitionedState: (d) => windowHandle(d),
    mergePartitionedState(d) {
      const m = mapOf(d);
      const target = currentId();
      for (const w of mergedAway) {
        const v = m.get(idOf(w));
        if (v === undefined) continue;
        const cur = m.get(target);
        if (cur === undefined) m.put(target, v);
        else if (d.kind === 'reducing') m.put(target, (d as unknown as ReducingStateDescriptor<unknown>).reduce(cur, v));
        else if (d.kind === 'list') m.put(target, [...(cur as unknown[]), ...(v as unknown[])]);
        else m.put(target, v);
      }
    },
  };
  const pwctx: ProcessWindowContext<Window> = {
    get window() { return current; },
    get currentWatermark() { return core.watermark; },
    get currentProcessingTime() { return ctx.clock.now(); },
    windowState,
    globalState: core.store,
    output: (tag, value) => out!.output(tag, value),
  };
  const actx = { getCurrentProcessingTime: () => ctx.clock.now() };

  const where = (position: string) => ({ uid: ctx.uid, subtask: ctx.subtask, position });
  /** User code that threw, named with the operator, subtask and where (a record, a window, a timer). */
  const named = (err: unknown, what: string, position: string): Error => {
    if (err instanceof WeirError && err.uid !== undefined) return err;
    const message = err instanceof WeirError ? err.message : `user code failed in ${what}: ${(err as Error)?.message ?? String(err)}`;
    return new WeirError(message, { ...where(position), cause: err });
  };
  const cleanupTime = (w: Window): number => (eventTime ? w.maxTimestamp() + allowedLateness : w.maxTimestamp());
  const isWindowLate = (w: Window) => eventTime && cleanupTime(w) <= core.watermark;

  /** A window's contents with v added (`fresh`: it had none): the accumulator, or the elements. */
  const accumulate: (fresh: boolean, acc: unknown, v: unknown) => unknown = evictor !== undefined
    // With an evictor: the elements and their timestamps, [value, timestamp] each.
    ? (fresh: boolean, acc: unknown, v: unknown) => { if (fresh) return [[v, time.value]]; (acc as unknown[]).push([v, time.value]); return acc; }
    : contents.kind === 'reduce'
    ? ((reduce) => (fresh: boolean, acc: unknown, v: unknown) => (fresh ? v : reduce(acc, v)))(contents.reduce)
    : contents.kind === 'aggregate'
      ? ((agg) => (fresh: boolean, acc: unknown, v: unknown) => agg.add(v, fresh ? agg.createAccumulator() : acc))(contents.aggregate)
      : (fresh: boolean, acc: unknown, v: unknown) => { if (fresh) return [v]; (acc as unknown[]).push(v); return acc; };

  /** Adds v to window w's contents; true when w had none (a new window: its timers are not registered yet). */
  const add = (w: Window, v: unknown): boolean => {
    let entry: LiveWindow | undefined;
    const start = w.start;
    const end = w.end;
    for (let i = 0; i < live.length; i++) if (live[i]![0] === start && live[i]![1] === end) { entry = live[i]!; break; }
    if (entry === undefined) live.push((entry = [start, end, 0, undefined]));
    const fresh = entry[2] === 0;
    entry[3] = accumulate(fresh, entry[3], v);
    entry[2] = 1;
    return fresh;
  };
  const combine = (a: unknown, b: unknown): unknown => {
    if (evictor !== undefined) return [...(a as unknown[]), ...(b as unknown[])];
    switch (contents.kind) {
      case 'reduce': return contents.reduce(a, b);
      case 'aggregate': {
        if (typeof contents.aggregate.merge !== 'function') {
          throw new WeirError('session windows merge accumulators: the AggregateFunction needs merge(a, b)', { uid: ctx.uid, subtask: ctx.subtask });
        }
        return contents.aggregate.merge(a, b);
      }
      default: return [...(a as unknown[]), ...(b as unknown[])];
    }
  };

  const ectx: EvictorContext = { getCurrentProcessingTime: () => ctx.clock.now(), getCurrentWatermark: () => core.watermark };

  /**
   * The window's result from its elements (an evictor's window): reduced, aggregated, or the
   * elements themselves; `called` names the user call running, for its error, as without an
   * evictor ('the window function' for add and reduce, 'getResult').
   */
  const resultOf = (values: unknown[], called: (what: string) => void): unknown[] => {
    if (contents.kind === 'process') return values;
    called('the window function');
    if (contents.kind === 'reduce') return values.length === 0 ? [] : [values.reduce((a, b) => contents.reduce(a, b))];
    let acc = contents.aggregate.createAccumulator();
    for (const v of values) acc = contents.aggregate.add(v, acc);
    called('getResult');
    return [contents.aggregate.getResult(acc)];
  };

  /** Fires window w with its contents; with an evictor, returns the elements the window keeps. */
  const emit = (w: Window, acc: unknown): unknown[] | undefined => {
    const carried = time.value;
    // A window's results carry its largest timestamp, as in Flink.
    time.value = w.maxTimestamp();
    current = w;
    // Which user call is running, for the error (none while the result goes downstream).
    let what = 'process';
    try {
      const key = core.currentKey;
      if (evictor !== undefined) {
        const elements = (acc as [unknown, number][]).map(([v, ts]) => new TimestampedValue(v, ts));
        what = 'evictor evictBefore';
        evictor.evictBefore(elements, elements.length, w, ectx);
        const results = resultOf(elements.map((e) => e.value), (called) => { what = called; });
        what = 'process';
        if (contents.kind === 'process') contents.windowFn.process(key, pwctx, results, out!);
        else if (windowFn !== undefined) windowFn.process(key, pwctx, results, out!);
        else { what = ''; for (const r of results) out!.collect(r); }
        what = 'evictor evictAfter';
        evictor.evictAfter(elements, elements.length, w, ectx);
        return elements.map((e) => [e.value, e.timestamp]);
      }
      if (contents.kind === 'process') contents.windowFn.process(key, pwctx, acc as unknown[], out!);
      else {
        what = 'getResult';
        const result = contents.kind === 'aggregate' ? contents.aggregate.getResult(acc) : acc;
        what = windowFn === undefined ? '' : 'process';
        if (windowFn === undefined) out!.collect(result);
        else windowFn.process(key, pwctx, [result], out!);
      }
      return undefined;
    } catch (err) {
      if (what === '') throw err;
      throw named(err, what, `window [${w.start}, ${w.end}) of key ${inspect(core.currentKey)}`);
    } finally {
      time.value = carried;
    }
  };

  const onResult = (w: Window, r: TriggerResult) => {
    if (r === TriggerResult.CONTINUE) return;
    const i = find(w);
    if (i < 0 || live[i]![2] === 0) return;
    if (r === TriggerResult.FIRE || r === TriggerResult.FIRE_AND_PURGE) {
      const kept = emit(w, live[i]![3]);
      // What an evictor left is the window's contents from now on (none left: as if purged, the window still live).
      if (kept !== undefined) {
        const entry = live[find(w)]!;
        if (kept.length > 0) entry[3] = kept;
        else { entry[2] = 0; entry[3] = undefined; }
      }
    }
    if (r === TriggerResult.PURGE || r === TriggerResult.FIRE_AND_PURGE) purge(w);
  };

  /** The window's contents go; a session window stays live (it still merges), another is forgotten. */
  const purge = (w: Window) => {
    const i = find(w);
    if (i < 0) return;
    if (merging) { live[i]![2] = 0; live[i]![3] = undefined; } else live.splice(i, 1);
  };

  /** Registers (or deletes) window w's cleanup timer, in the assigner's time domain. */
  const cleanupTimer = (w: Window, register: boolean) => {
    const t = cleanupTime(w);
    if (t === Infinity) return;
    if (register) {
      if (eventTime) core.registerEventTimer(t, idOf(w));
      else core.registerProcessingTimer(t, idOf(w));
    } else if (eventTime) core.deleteEventTimer(t, idOf(w));
    else core.deleteProcessingTimer(t, idOf(w));
  };

  /** Everything of window `w` goes: contents, trigger state and timers, the window function's state. */
  /** `fired`: the timer that fired to clear it (the event-time trigger's own, with no lateness: nothing left to delete). */
  const clearAll = (w: Window, fired = NaN) => {
    current = w;
    const i = find(w);
    if (i >= 0) live.splice(i, 1);
    if (!(eventTime && defaultEventTrigger && fired === w.maxTimestamp())) trigger.clear(w, tctx);
    if (windowFn?.clear !== undefined) windowFn.clear(pwctx);
  };

  /**
   * A session window `w` joins the live windows of the key it touches: one window covering
   * them all, their contents combined and their trigger state merged (Flink's
   * MergingWindowSet, keeping state under the merged window itself). Returns the window the
   * element belongs to.
   */
  const mergeIn = (w: TimeWindow): TimeWindow => {
    // The live windows w touches, and the window covering them all, found without allocating.
    let start = w.start;
    let end = w.end;
    let first = -1;
    let count = 0;
    for (let i = 0; i < live.length; i++) {
      const e = live[i]!;
      if (e[0] <= w.end && e[1] >= w.start) {
        if (first < 0) first = i;
        count++;
        if (e[0] < start) start = e[0];
        if (e[1] > end) end = e[1];
      }
    }
    if (count === 0) {
      live.push([w.start, w.end, 0, undefined]);
      return w;
    }
    const merged = new TimeWindow(start, end);
    const only = live[first]!;
    if (count === 1 && only[0] === start && only[1] === end) return merged;
    const touching: TimeWindow[] = [];
    if (count === 1) {
      // The common case (a session grows by one event): the window is widened in place.
      touching.push(new TimeWindow(only[0], only[1]));
      only[0] = start;
      only[1] = end;
    } else {
      let acc: unknown;
      let has = false;
      for (let i = 0; i < live.length;) {
        const e = live[i]!;
        if (e[0] <= w.end && e[1] >= w.start) {
          touching.push(new TimeWindow(e[0], e[1]));
          if (e[2] === 1) { acc = has ? combine(acc, e[3]) : e[3]; has = true; }
          live.splice(i, 1);
        } else i++;
      }
      live.push([start, end, has ? 1 : 0, acc]);
    }
    current = merged;
    mergedAway = touching;
    trigger.onMerge(merged, tctx);
    for (const t of touching) {
      current = t;
      trigger.clear(t, tctx);
      cleanupTimer(t, false);
      for (const m of perWindow.values()) m.remove(idOf(t));
    }
    mergedAway = [];
    return merged;
  };

  const fire = (t: Timer, domain: 'event' | 'processing') => {
    core.setTimerKey(t);
    const w = windowOf(t.namespace);
    load();
    // A timer of a window merged away since: its trigger should have deleted it.
    if (merging && find(w) < 0) return;
    current = w;
    // As Flink: the trigger hears of every timer, contents or not (a purged window's trigger moves on).
    let r: TriggerResult;
    try {
      r = domain === 'event' ? trigger.onEventTime(t.timestamp, w, tctx) : trigger.onProcessingTime(t.timestamp, w, tctx);
    } catch (err) {
      throw named(err, `trigger ${domain === 'event' ? 'onEventTime' : 'onProcessingTime'}`,
        `${domain}-time timer ${t.timestamp} of window [${w.start}, ${w.end}) of key ${inspect(t.key)}`);
    }
    onResult(w, r);
    if ((domain === 'event') === eventTime && t.timestamp === cleanupTime(w)) clearAll(w, domain === 'event' ? t.timestamp : NaN);
    store();
  };

  return {
    open(_, o) {
      out = o;
      windowsOfKey = core.store.getState(new ValueStateDescriptor<LiveWindow[] | undefined>('__weir.windows'));
      if (windowFn !== undefined) {
        const user = windowFn instanceof AllWindowAdapter ? windowFn.fn : windowFn;
        for (const v of Object.values(user)) if (v instanceof StateDescriptor) core.store.getState(v);
        windowFn.open?.(ctx);
      }
    },
    processElement(v, o) {
      out = o;
      const index = seen++;
      core.setKey(keySelector(v));
      // The record's timestamp, as Flink passes it (processing-time assigners read the clock themselves).
      const ts = time.value;
      if (eventTime && Number.isNaN(ts)) {
        throw new WeirError('an event-time window needs records with timestamps: call assignTimestampsAndWatermarks(...) before it, '
          + 'or use a processing-time assigner', where(`input record ${index}`));
      }
      let windows: Window[];
      try {
        windows = assigner.assignWindows(v, ts, actx);
      } catch (err) {
        throw named(err, 'the window assigner', `input record ${index}`);
      }
      let skipped = true;
      load();
      for (const assigned of windows) {
        const w = merging ? mergeIn(assigned as TimeWindow) : assigned;
        if (isWindowLate(w)) {
          if (merging && w === assigned) { const i = find(w); if (i >= 0 && live[i]![2] === 0) live.splice(i, 1); }
          continue;
        }
        skipped = false;
        let fresh: boolean;
        try {
          fresh = add(w, v);
        } catch (err) {
          throw named(err, 'the window function', `input record ${index}`);
        }
        current = w;
        // The event-time trigger's timer is registered with a window's first element; later ones
        // change nothing until the watermark passes its end (it answers CONTINUE), so they skip it.
        if (fresh || !defaultEventTrigger || w.maxTimestamp() <= core.watermark) {
          let r: TriggerResult;
          try {
            r = trigger.onElement(v, ts, w, tctx);
          } catch (err) {
            throw named(err, 'trigger onElement', `input record ${index}`);
          }
          onResult(w, r);
        }
        // A merged session window is a new window too: its cleanup timer is registered here.
        // (With no lateness, the event-time trigger's own timer at the window's end is it.)
        if ((fresh || w !== assigned) && !(eventTime && defaultEventTrigger && allowedLateness === 0)) cleanupTimer(w, true);
      }
      store();
      if (skipped && eventTime && ts + allowedLateness <= core.watermark) {
        if (lateTag !== undefined) o.output(lateTag, v);
        else lateDropped?.inc();
      }
    },
    processWatermark(ts, o) {
      out = o;
      if (!core.advance(ts)) return;
      core.eventTimers.fireUpTo(ts, (t) => fire(t, 'event'));
      o.emitWatermark(ts);
    },
    onProcessingTime(now, o) {
      out = o;
      core.processingTimers.fireUpTo(now, (t) => fire(t, 'processing'));
    },
    ...core.hooks(),
    close() {
      windowFn?.close?.();
      backend.close();
    },
  };
}
