// Two-input operators: co-process functions (keyed or not), the broadcast state pattern, and the interval join.
import type {
  BroadcastContext, BroadcastProcessFunction, BroadcastReadOnlyContext, BroadcastState, CoProcessFunction, KeyedBroadcastProcessFunction,
  KeyedCoProcessFunction, ProcessJoinFunction,
} from '../../core/api/co-functions.ts';
import type { OperatorContext, Output, StreamOperator } from '../../core/api/operator.ts';
import { WeirError } from '../../core/errors.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { keyId } from '../../core/keys/key-id.ts';
import type { KeyId } from '../../core/keys/key-id.ts';
import type { KeyedStateBackend } from '../../core/state/backend.ts';
import { ValueStateDescriptor } from '../../core/state/descriptors.ts';
import type { MapStateDescriptor } from '../../core/state/descriptors.ts';
import type { OperatorListState } from '../../core/state/operator-state.ts';
import { keyedFunctionOperator } from './keyed-function.ts';
import { unkeyedContext } from './functions.ts';

type Sel = (v: unknown) => unknown;

export function coProcessOperator(fn: CoProcessFunction<unknown, unknown, unknown>, ctx: OperatorContext): StreamOperator<unknown, unknown> {
  let current: Output<unknown> | null = null;
  let watermark = -Infinity;
  const pctx = unkeyedContext(ctx, () => current!, () => watermark);
  return {
    open: () => fn.open?.(ctx),
    processElement(v, out) { current = out; fn.processElement1(v, pctx, out); },
    processElement2(v, out) { current = out; fn.processElement2(v, pctx, out); },
    processWatermark(ts, out) { watermark = ts; out.emitWatermark(ts); },
    close: () => fn.close?.(),
  };
}

export function keyedCoProcessOperator(fn: KeyedCoProcessFunction<unknown, unknown, unknown, unknown>, key1: Sel, key2: Sel,
  ctx: OperatorContext, backend: KeyedStateBackend): StreamOperator<unknown, unknown> {
  return keyedFunctionOperator({
    fn,
    input1: { key: key1, call: (v, c, out) => fn.processElement1(v, c, out) },
    input2: { key: key2, call: (v, c, out) => fn.processElement2(v, c, out) },
    onTimer: (ts, c, out) => fn.onTimer?.(ts, c, out),
    open: (store) => fn.open?.(ctx, store),
    close: () => fn.close?.(),
  }, ctx, backend);
}

/**
 * Broadcast states: a Map per descriptor in memory, written into an operator state list
 * with the 'broadcast' rule at each snapshot (every subtask holds the same copy, so a
 * rescale gives each new subtask one old subtask's) and read back at open.
 */
class BroadcastStates {
  private readonly maps = new Map<string, Map<KeyId, [unknown, unknown]>>();
  private readonly lists = new Map<string, OperatorListState<[unknown, unknown]>>();
  private readonly ctx: OperatorContext;
  constructor(descriptors: readonly MapStateDescriptor<unknown, unknown>[], ctx: OperatorContext) {
    this.ctx = ctx;
    for (const d of descriptors) this.maps.set(d.name, new Map());
  }
  open(): void {
    for (const [name, m] of this.maps) {
      const list = this.ctx.operatorState!<[unknown, unknown]>(`broadcast.${name}`, 'broadcast');
      this.lists.set(name, list);
      for (const [k, v] of list.get()) m.set(keyId(k as Key), [k, v]);
    }
  }
  persist(): void {
    for (const [name, m] of this.maps) this.lists.get(name)!.update([...m.values()]);
  }
  /** The views handed out, one per descriptor and side (a view per call showed in per-record costs). */
  private readonly views = new Map<string, BroadcastState<unknown, unknown>>();

  state(d: MapStateDescriptor<unknown, unknown>, writable: boolean): BroadcastState<unknown, unknown> {
    const id = `${writable ? 'w' : 'r'}${d.name}`;
    let view = this.views.get(id);
    if (view === undefined) this.views.set(id, (view = this.view(d, writable)));
    return view;
  }

  private view(d: MapStateDescriptor<unknown, unknown>, writable: boolean): BroadcastState<unknown, unknown> {
    const m = this.maps.get(d.name);
    if (m === undefined) {
      throw new WeirError(`broadcast state '${d.name}' was not declared: pass its descriptor to broadcast(...)`, { uid: this.ctx.uid, subtask: this.ctx.subtask });
    }
    const readOnly = () => {
      throw new WeirError(`broadcast state '${d.name}' is read-only on the non-broadcast side (as in Flink): change it in processBroadcastElement`,
        { uid: this.ctx.uid, subtask: this.ctx.subtask });
    };
    return {
      get: (k) => m.get(keyId(k as Key))?.[1],
      contains: (k) => m.has(keyId(k as Key)),
      *entries() { for (const e of m.values()) yield e; },
      get size() { return m.size; },
      put: writable ? (k, v) => { m.set(keyId(k as Key), [k, v]); } : readOnly,
      remove: writable ? (k) => { m.delete(keyId(k as Key)); } : readOnly,
      clear: writable ? () => m.clear() : readOnly,
    };
  }
}

export function keyedBroadcastOperator(fn: KeyedBroadcastProcessFunction<unknown, unknown, unknown, unknown>, key1: Sel,
  descriptors: readonly MapStateDescriptor<unknown, unknown>[], ctx: OperatorContext, backend: KeyedStateBackend): StreamOperator<unknown, unknown> {
  const states = new BroadcastStates(descriptors, ctx);
  let bctx: BroadcastContext | null = null;
  return keyedFunctionOperator({
    fn,
    input1: { key: key1, call: (v, c, out) => fn.processElement(v, c as never, out) },
    // Broadcast elements are not keyed: no current key, no keyed state.
    input2: { call: (v, _, out) => fn.processBroadcastElement(v, bctx!, out) },
    onTimer: (ts, c, out) => fn.onTimer?.(ts, c, out),
    open: (store) => { states.open(); fn.open?.(ctx, store); },
    close: () => fn.close?.(),
    beforeSnapshot: () => states.persist(),
    extend: (c, core) => {
      const time = ctx.recordTime ?? { value: NaN };
      bctx = {
        getBroadcastState: (d) => states.state(d as MapStateDescriptor<unknown, unknown>, true) as never,
        output: c.output,
        timestamp: () => (Number.isNaN(time.value) ? null : time.value),
        currentWatermark: () => core.watermark,
        runtime: ctx,
      };
      return Object.assign(Object.create(c) as typeof c, {
        getBroadcastState: (d: MapStateDescriptor<unknown, unknown>) => states.state(d, false),
        currentWatermark: () => core.watermark,
      });
    },
  }, ctx, backend);
}

export function broadcastOperator(fn: BroadcastProcessFunction<unknown, unknown, unknown>, descriptors: readonly MapStateDescriptor<unknown, unknown>[],
  ctx: OperatorContext): StreamOperator<unknown, unknown> {
  const states = new BroadcastStates(descriptors, ctx);
  let current: Output<unknown> | null = null;
  let watermark = -Infinity;
  const base = unkeyedContext(ctx, () => current!, () => watermark);
  const ro: BroadcastReadOnlyContext = { ...base, getBroadcastState: (d) => states.state(d as MapStateDescriptor<unknown, unknown>, false) as never };
  const rw: BroadcastContext = { ...base, getBroadcastState: (d) => states.state(d as MapStateDescriptor<unknown, unknown>, true) as never };
  return {
    open() { states.open(); fn.open?.(ctx); },
    processElement(v, out) { current = out; fn.processElement(v, ro, out); },
    processElement2(v, out) { current = out; fn.processBroadcastElement(v, rw, out); },
    processWatermark(ts, out) { watermark = ts; out.emitWatermark(ts); },
    snapshotState() { states.persist(); return undefined; },
    close: () => fn.close?.(),
  };
}

type Buffered = [number, unknown];

/**
 * As Flink's IntervalJoinOperator: each side's elements wait in keyed state until the
 * watermark says no partner can come any more; a new element meets the other side's that
 * fall in its interval. Elements behind the watermark are late and dropped (counted).
 */
export function intervalJoinOperator(fn: ProcessJoinFunction<unknown, unknown, unknown>, lower: number, upper: number, key1: Sel, key2: Sel,
  ctx: OperatorContext, backend: KeyedStateBackend): StreamOperator<unknown, unknown> {
  const left = new ValueStateDescriptor<Buffered[] | undefined>('interval-join-left');
  const right = new ValueStateDescriptor<Buffered[] | undefined>('interval-join-right');
  const time = ctx.recordTime ?? { value: NaN };
  const late = ctx.counter?.('numLateRecordsDropped');
  let out: Output<unknown> | null = null;
  let watermark = () => -Infinity;
  let seen = 0;
  const emit = (l: unknown, r: unknown, lt: number, rt: number) => {
    const carried = time.value;
    time.value = Math.max(lt, rt);
    try {
      fn.processElement(l, r, { leftTimestamp: lt, rightTimestamp: rt, timestamp: time.value, output: (tag, value) => out!.output(tag, value) }, out!);
    } finally {
      time.value = carried;
    }
  };
  const side = (isLeft: boolean) => (v: unknown, c: import('../../core/api/keyed-process-function.ts').OnTimerContext<unknown>, o: Output<unknown>) => {
    out = o;
    const index = seen++;
    const ts = time.value;
    if (Number.isNaN(ts)) {
      throw new WeirError('an interval join needs records with timestamps: call assignTimestampsAndWatermarks(...) on both inputs',
        { uid: ctx.uid, subtask: ctx.subtask, position: `input record ${index}` });
    }
    if (ts < watermark()) { late?.inc(); return; }
    const mine = c.state(isLeft ? left : right);
    const theirs = c.state(isLeft ? right : left);
    const buffered = mine.value() ?? [];
    buffered.push([ts, v]);
    mine.update(buffered);
    for (const [ot, other] of theirs.value() ?? []) {
      const [lt, rt] = isLeft ? [ts, ot] : [ot, ts];
      if (rt >= lt + lower && rt <= lt + upper) emit(isLeft ? v : other, isLeft ? other : v, lt, rt);
    }
    // A left element can meet right ones up to ts + upper; a right one left ones down to ts - lower. It goes once the
    // watermark passes that reach: an element at the watermark itself is not late and may still meet it (Flink's
    // cleanup at ts + reach drops that pair).
    const cleanup = isLeft ? ts + Math.max(upper, 0) : ts + Math.max(-lower, 0);
    c.timerService().registerEventTimeTimer(cleanup + 1);
  };
  const op = keyedFunctionOperator({
    fn,
    input1: { key: key1, call: side(true) },
    input2: { key: key2, call: side(false) },
    onTimer: (ts, c) => {
      for (const [d, reach] of [[left, Math.max(upper, 0)], [right, Math.max(-lower, 0)]] as const) {
        const s = c.state(d);
        let edge = false;
        const kept = (s.value() ?? []).filter(([t]) => {
          edge ||= t + reach === ts;
          return t + reach >= ts;
        });
        if (kept.length === 0) s.clear();
        else s.update(kept);
        // An element whose cleanup timer was at its reach itself (state from before cleanup moved one past it) gets one.
        if (edge) c.timerService().registerEventTimeTimer(ts + 1);
      }
    },
    extend: (c, core) => { watermark = () => core.watermark; return c; },
  }, ctx, backend);
  return op;
}
