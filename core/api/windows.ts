// Windows: assigners, triggers and window functions with Flink's names and semantics.
import { WeirError } from '../errors.ts';
import type { ListState, ReducingState, ValueState } from '../state/keyed-state.ts';
import { ReducingStateDescriptor } from '../state/descriptors.ts';
import type { ListStateDescriptor, StateDescriptor, ValueStateDescriptor } from '../state/descriptors.ts';
import type { KeyedStateStore } from '../state/keyed-state.ts';
import type { Collector, OperatorContext, OutputTag } from './operator.ts';

/** A window of event or processing time: [start, end), epoch ms, as Flink's TimeWindow. */
export class TimeWindow {
  readonly start: number;
  readonly end: number;
  constructor(start: number, end: number) {
    this.start = start;
    this.end = end;
  }
  /** The largest timestamp in the window: what its results are stamped with, and when event time fires it. */
  maxTimestamp(): number {
    return this.end - 1;
  }
  /** Whether the two overlap or touch (session windows merge then). */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }
  /** The first timestamp of the window of `size` (shifted by `offset`) that holds `timestamp`. */
  static getWindowStartWithOffset(timestamp: number, offset: number, size: number): number {
    const r = (timestamp - offset) % size;
    return timestamp - (r < 0 ? r + size : r);
  }
}

/** The one window of GlobalWindows: everything of a key; it fires only by a trigger of your own. */
export class GlobalWindow {
  static readonly INSTANCE = new GlobalWindow();
  readonly start = -Infinity;
  readonly end = Infinity;
  maxTimestamp(): number {
    return Infinity;
  }
}

export type Window = TimeWindow | GlobalWindow;

export interface WindowAssignerContext {
  getCurrentProcessingTime(): number;
}

export abstract class WindowAssigner<T, W extends Window = TimeWindow> {
  abstract assignWindows(element: T, timestamp: number, ctx: WindowAssignerContext): W[];
  abstract getDefaultTrigger(): Trigger<T, W>;
  abstract isEventTime(): boolean;
  /** Session windows: windows that overlap are merged into one. */
  isMerging(): boolean {
    return false;
  }
}

function positive(what: string, ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new WeirError(`${what} must be a number of ms > 0, got ${String(ms)}`);
  return ms;
}

function offsetOf(what: string, offset: number, size: number): number {
  if (typeof offset !== 'number' || !Number.isFinite(offset) || Math.abs(offset) >= size) {
    throw new WeirError(`${what}: the offset must be a number of ms with |offset| < size (${size}), got ${String(offset)}`);
  }
  return offset;
}

/** What tumbling, sliding and session assigners share: their time domain, its default trigger, the time of a record. */
abstract class TimeAssigner<T> extends WindowAssigner<T> {
  protected readonly eventTime: boolean;
  constructor(eventTime: boolean) {
    super();
    this.eventTime = eventTime;
  }
  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return (this.eventTime ? EventTimeTrigger.create() : ProcessingTimeTrigger.create()) as Trigger<T, TimeWindow>;
  }
  isEventTime(): boolean {
    return this.eventTime;
  }
  /** The record's timestamp in event time, the clock in processing time. */
  protected timeOf(timestamp: number, ctx: WindowAssignerContext): number {
    return this.eventTime ? timestamp : ctx.getCurrentProcessingTime();
  }
}

class Tumbling<T> extends TimeAssigner<T> {
  private readonly size: number;
  private readonly offset: number;
  constructor(size: number, offset: number, eventTime: boolean) {
    super(eventTime);
    this.size = size;
    this.offset = offset;
  }
  assignWindows(_: T, timestamp: number, ctx: WindowAssignerContext): TimeWindow[] {
    const start = TimeWindow.getWindowStartWithOffset(this.timeOf(timestamp, ctx), this.offset, this.size);
    return [new TimeWindow(start, start + this.size)];
  }
}

class Sliding<T> extends TimeAssigner<T> {
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  constructor(size: number, slide: number, offset: number, eventTime: boolean) {
    super(eventTime);
    this.size = size;
    this.slide = slide;
    this.offset = offset;
  }
  assignWindows(_: T, timestamp: number, ctx: WindowAssignerContext): TimeWindow[] {
    const ts = this.timeOf(timestamp, ctx);
    const out: TimeWindow[] = [];
    const last = TimeWindow.getWindowStartWithOffset(ts, this.offset, this.slide);
    for (let start = last; start > ts - this.size; start -= this.slide) out.push(new TimeWindow(start, start + this.size));
    return out;
  }
}

/** A session gap per element (dynamic gaps). */
export type SessionWindowTimeGapExtractor<T> = (element: T) => number;

class Sessions<T> extends TimeAssigner<T> {
  private readonly gap: SessionWindowTimeGapExtractor<T>;
  constructor(gap: SessionWindowTimeGapExtractor<T>, eventTime: boolean) {
    super(eventTime);
    this.gap = gap;
  }
  assignWindows(element: T, timestamp: number, ctx: WindowAssignerContext): TimeWindow[] {
    const ts = this.timeOf(timestamp, ctx);
    const gap = this.gap(element);
    if (typeof gap !== 'number' || !Number.isFinite(gap) || gap <= 0) {
      throw new WeirError(`the session gap extractor returned ${typeof gap === 'number' ? gap : `${typeof gap} ${String(gap)}`}; a gap is a number of ms > 0`);
    }
    return [new TimeWindow(ts, ts + gap)];
  }
  override isMerging(): boolean {
    return true;
  }
}

export const TumblingEventTimeWindows = {
  of<T = unknown>(size: number, offset = 0): WindowAssigner<T> {
    const s = positive('TumblingEventTimeWindows.of: size', size);
    return new Tumbling<T>(s, offsetOf('TumblingEventTimeWindows.of', offset, s), true);
  },
};
export const TumblingProcessingTimeWindows = {
  of<T = unknown>(size: number, offset = 0): WindowAssigner<T> {
    const s = positive('TumblingProcessingTimeWindows.of: size', size);
    return new Tumbling<T>(s, offsetOf('TumblingProcessingTimeWindows.of', offset, s), false);
  },
};

function sliding<T>(what: string, size: number, slide: number, offset: number, eventTime: boolean): WindowAssigner<T> {
  const s = positive(`${what}: size`, size);
  const d = positive(`${what}: slide`, slide);
  return new Sliding<T>(s, d, offsetOf(what, offset, d), eventTime);
}
export const SlidingEventTimeWindows = {
  of<T = unknown>(size: number, slide: number, offset = 0): WindowAssigner<T> {
    return sliding<T>('SlidingEventTimeWindows.of', size, slide, offset, true);
  },
};
export const SlidingProcessingTimeWindows = {
  of<T = unknown>(size: number, slide: number, offset = 0): WindowAssigner<T> {
    return sliding<T>('SlidingProcessingTimeWindows.of', size, slide, offset, false);
  },
};

function dynamicGap<T>(what: string, extractor: SessionWindowTimeGapExtractor<T>): SessionWindowTimeGapExtractor<T> {
  if (typeof extractor !== 'function') throw new WeirError(`${what} takes a function (element) => gap in ms`);
  return extractor;
}
export const EventTimeSessionWindows = {
  withGap<T = unknown>(gap: number): WindowAssigner<T> {
    const g = positive('EventTimeSessionWindows.withGap: gap', gap);
    return new Sessions<T>(() => g, true);
  },
  withDynamicGap<T = unknown>(extractor: SessionWindowTimeGapExtractor<T>): WindowAssigner<T> {
    return new Sessions<T>(dynamicGap('EventTimeSessionWindows.withDynamicGap', extractor), true);
  },
};
export const ProcessingTimeSessionWindows = {
  withGap<T = unknown>(gap: number): WindowAssigner<T> {
    const g = positive('ProcessingTimeSessionWindows.withGap: gap', gap);
    return new Sessions<T>(() => g, false);
  },
  withDynamicGap<T = unknown>(extractor: SessionWindowTimeGapExtractor<T>): WindowAssigner<T> {
    return new Sessions<T>(dynamicGap('ProcessingTimeSessionWindows.withDynamicGap', extractor), false);
  },
};

class Global<T> extends WindowAssigner<T, GlobalWindow> {
  assignWindows(): GlobalWindow[] {
    return [GlobalWindow.INSTANCE];
  }
  getDefaultTrigger(): Trigger<T, GlobalWindow> {
    return new NeverTrigger<T>();
  }
  isEventTime(): boolean {
    return false;
  }
}
export const GlobalWindows = {
  create<T = unknown>(): WindowAssigner<T, GlobalWindow> {
    return new Global<T>();
  },
};

// ---- Triggers ----

export const TriggerResult = {
  CONTINUE: 'CONTINUE',
  FIRE: 'FIRE',
  PURGE: 'PURGE',
  FIRE_AND_PURGE: 'FIRE_AND_PURGE',
} as const;
export type TriggerResult = (typeof TriggerResult)[keyof typeof TriggerResult];

/** State a trigger keeps per key and window (getPartitionedState): value, reducing and list states. */
export type PartitionedState<D> = D extends ReducingStateDescriptor<infer T> ? ReducingState<T>
  : D extends ListStateDescriptor<infer T> ? ListState<T>
    : D extends ValueStateDescriptor<infer T> ? ValueState<T> : never;

export interface WindowStateStore {
  getState<D extends StateDescriptor<unknown>>(descriptor: D): PartitionedState<D>;
}

export interface TriggerContext {
  getCurrentProcessingTime(): number;
  getCurrentWatermark(): number;
  registerProcessingTimeTimer(time: number): void;
  registerEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  getPartitionedState<D extends StateDescriptor<unknown>>(descriptor: D): PartitionedState<D>;
}

export interface OnMergeContext extends TriggerContext {
  /** Merges the state of the windows being merged into the new window's. */
  mergePartitionedState(descriptor: StateDescriptor<unknown>): void;
}

export abstract class Trigger<T, W extends Window = TimeWindow> {
  abstract onElement(element: T, timestamp: number, window: W, ctx: TriggerContext): TriggerResult;
  abstract onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  abstract onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  canMerge(): boolean {
    return false;
  }
  onMerge(_window: W, _ctx: OnMergeContext): void {
    throw new WeirError(`trigger ${this.constructor.name} cannot be used with merging (session) windows`);
  }
  abstract clear(window: W, ctx: TriggerContext): void;
}

/** Fires once the watermark passes the window's end (and again for each allowed late element). */
export class EventTimeTrigger<T = unknown> extends Trigger<T, TimeWindow> {
  static create<T = unknown>(): EventTimeTrigger<T> {
    return new EventTimeTrigger<T>();
  }
  onElement(_: T, __: number, window: TimeWindow, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return TriggerResult.FIRE;
    ctx.registerEventTimeTimer(window.maxTimestamp());
    return TriggerResult.CONTINUE;
  }
  onEventTime(time: number, window: TimeWindow): TriggerResult {
    return time === window.maxTimestamp() ? TriggerResult.FIRE : TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  override canMerge(): boolean {
    return true;
  }
  override onMerge(window: TimeWindow, ctx: OnMergeContext): void {
    if (window.maxTimestamp() > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
  }
  clear(window: TimeWindow, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }
}

/** Fires when processing time reaches the window's end. */
export class ProcessingTimeTrigger<T = unknown> extends Trigger<T, TimeWindow> {
  static create<T = unknown>(): ProcessingTimeTrigger<T> {
    return new ProcessingTimeTrigger<T>();
  }
  onElement(_: T, __: number, window: TimeWindow, ctx: TriggerContext): TriggerResult {
    ctx.registerProcessingTimeTimer(window.maxTimestamp());
    return TriggerResult.CONTINUE;
  }
  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.FIRE;
  }
  override canMerge(): boolean {
    return true;
  }
  override onMerge(window: TimeWindow, ctx: OnMergeContext): void {
    if (window.maxTimestamp() > ctx.getCurrentProcessingTime()) ctx.registerProcessingTimeTimer(window.maxTimestamp());
  }
  clear(window: TimeWindow, ctx: TriggerContext): void {
    ctx.deleteProcessingTimeTimer(window.maxTimestamp());
  }
}

/** GlobalWindows' default: never fires. */
export class NeverTrigger<T = unknown> extends Trigger<T, GlobalWindow> {
  onElement(): TriggerResult { return TriggerResult.CONTINUE; }
  onEventTime(): TriggerResult { return TriggerResult.CONTINUE; }
  onProcessingTime(): TriggerResult { return TriggerResult.CONTINUE; }
  override canMerge(): boolean { return true; }
  override onMerge(): void {}
  clear(): void {}
}

const sum = (a: number, b: number) => a + b;

/** Fires once a window holds `count` elements (counting again after each firing). */
export class CountTrigger<T = unknown, W extends Window = Window> extends Trigger<T, W> {
  private readonly max: number;
  private readonly state: ReducingStateDescriptor<number>;
  private constructor(max: number, state: ReducingStateDescriptor<number>) {
    super();
    this.max = max;
    this.state = state;
  }
  static of<T = unknown, W extends Window = Window>(count: number): CountTrigger<T, W> {
    if (!Number.isInteger(count) || count <= 0) throw new WeirError(`CountTrigger.of takes a count > 0, got ${String(count)}`);
    return new CountTrigger<T, W>(count, new ReducingStateDescriptor<number>('count', sum));
  }
  onElement(_: T, __: number, ___: W, ctx: TriggerContext): TriggerResult {
    const count = ctx.getPartitionedState(this.state);
    count.add(1);
    if (count.get()! >= this.max) {
      count.clear();
      return TriggerResult.FIRE;
    }
    return TriggerResult.CONTINUE;
  }
  onEventTime(): TriggerResult { return TriggerResult.CONTINUE; }
  onProcessingTime(): TriggerResult { return TriggerResult.CONTINUE; }
  override canMerge(): boolean { return true; }
  override onMerge(_: W, ctx: OnMergeContext): void { ctx.mergePartitionedState(this.state); }
  clear(_: W, ctx: TriggerContext): void { ctx.getPartitionedState(this.state).clear(); }
}

/** Purges the window's contents whenever the trigger it wraps fires. */
export class PurgingTrigger<T, W extends Window> extends Trigger<T, W> {
  private readonly nested: Trigger<T, W>;
  private constructor(nested: Trigger<T, W>) {
    super();
    this.nested = nested;
  }
  static of<T, W extends Window>(nested: Trigger<T, W>): PurgingTrigger<T, W> {
    if (!(nested instanceof Trigger)) throw new WeirError('PurgingTrigger.of takes a Trigger');
    return new PurgingTrigger<T, W>(nested);
  }
  private static purging(r: TriggerResult): TriggerResult {
    return r === TriggerResult.FIRE || r === TriggerResult.FIRE_AND_PURGE ? TriggerResult.FIRE_AND_PURGE : r;
  }
  onElement(e: T, ts: number, w: W, ctx: TriggerContext): TriggerResult { return PurgingTrigger.purging(this.nested.onElement(e, ts, w, ctx)); }
  onEventTime(t: number, w: W, ctx: TriggerContext): TriggerResult { return PurgingTrigger.purging(this.nested.onEventTime(t, w, ctx)); }
  onProcessingTime(t: number, w: W, ctx: TriggerContext): TriggerResult { return PurgingTrigger.purging(this.nested.onProcessingTime(t, w, ctx)); }
  override canMerge(): boolean { return this.nested.canMerge(); }
  override onMerge(w: W, ctx: OnMergeContext): void { this.nested.onMerge(w, ctx); }
  clear(w: W, ctx: TriggerContext): void { this.nested.clear(w, ctx); }
}

const min = (a: number, b: number) => Math.min(a, b);

/** Fires every `interval` ms of event time within a window, and at its end. */
export class ContinuousEventTimeTrigger<T = unknown> extends Trigger<T, TimeWindow> {
  private readonly interval: number;
  private readonly state = new ReducingStateDescriptor<number>('fire-time', min);
  private constructor(interval: number) {
    super();
    this.interval = interval;
  }
  static of<T = unknown>(interval: number): ContinuousEventTimeTrigger<T> {
    return new ContinuousEventTimeTrigger<T>(positive('ContinuousEventTimeTrigger.of: interval', interval));
  }
  onElement(_: T, timestamp: number, window: TimeWindow, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return TriggerResult.FIRE;
    ctx.registerEventTimeTimer(window.maxTimestamp());
    const fire = ctx.getPartitionedState(this.state);
    if (fire.get() === undefined) this.registerNext(TimeWindow.getWindowStartWithOffset(timestamp, 0, this.interval), window, ctx);
    return TriggerResult.CONTINUE;
  }
  onEventTime(time: number, window: TimeWindow, ctx: TriggerContext): TriggerResult {
    if (time === window.maxTimestamp()) return TriggerResult.FIRE;
    const fire = ctx.getPartitionedState(this.state);
    if (fire.get() === time) {
      fire.clear();
      this.registerNext(time, window, ctx);
      return TriggerResult.FIRE;
    }
    return TriggerResult.CONTINUE;
  }
  /** As Flink: the next firing is an interval on, but never past the window's end. */
  private registerNext(time: number, window: TimeWindow, ctx: TriggerContext): void {
    const next = Math.min(time + this.interval, window.maxTimestamp());
    ctx.getPartitionedState(this.state).add(next);
    ctx.registerEventTimeTimer(next);
  }
  onProcessingTime(): TriggerResult { return TriggerResult.CONTINUE; }
  override canMerge(): boolean { return true; }
  override onMerge(window: TimeWindow, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(this.state);
    const next = ctx.getPartitionedState(this.state).get();
    if (next !== undefined) ctx.registerEventTimeTimer(next);
    if (window.maxTimestamp() > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(window.maxTimestamp());
  }
  clear(window: TimeWindow, ctx: TriggerContext): void {
    const fire = ctx.getPartitionedState(this.state);
    const next = fire.get();
    if (next !== undefined) ctx.deleteEventTimeTimer(next);
    fire.clear();
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }
}

/** Fires every `interval` ms of processing time while a window has elements. */
export class ContinuousProcessingTimeTrigger<T = unknown> extends Trigger<T, TimeWindow> {
  private readonly interval: number;
  private readonly state = new ReducingStateDescriptor<number>('fire-time', min);
  private constructor(interval: number) {
    super();
    this.interval = interval;
  }
  static of<T = unknown>(interval: number): ContinuousProcessingTimeTrigger<T> {
    return new ContinuousProcessingTimeTrigger<T>(positive('ContinuousProcessingTimeTrigger.of: interval', interval));
  }
  onElement(_: T, __: number, window: TimeWindow, ctx: TriggerContext): TriggerResult {
    const fire = ctx.getPartitionedState(this.state);
    if (fire.get() === undefined) {
      const now = ctx.getCurrentProcessingTime();
      const next = Math.min(now - (((now % this.interval) + this.interval) % this.interval) + this.interval, window.maxTimestamp());
      ctx.registerProcessingTimeTimer(next);
      fire.add(next);
    }
    return TriggerResult.CONTINUE;
  }
  onEventTime(): TriggerResult { return TriggerResult.CONTINUE; }
  onProcessingTime(time: number, window: TimeWindow, ctx: TriggerContext): TriggerResult {
    const fire = ctx.getPartitionedState(this.state);
    if (fire.get() === time) {
      fire.clear();
      if (time < window.maxTimestamp()) {
        const next = Math.min(time + this.interval, window.maxTimestamp());
        fire.add(next);
        ctx.registerProcessingTimeTimer(next);
      }
      return TriggerResult.FIRE;
    }
    return TriggerResult.CONTINUE;
  }
  override canMerge(): boolean { return true; }
  override onMerge(_: TimeWindow, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(this.state);
    const next = ctx.getPartitionedState(this.state).get();
    if (next !== undefined) ctx.registerProcessingTimeTimer(next);
  }
  clear(_: TimeWindow, ctx: TriggerContext): void {
    const fire = ctx.getPartitionedState(this.state);
    const next = fire.get();
    if (next !== undefined) ctx.deleteProcessingTimeTimer(next);
    fire.clear();
  }
}

// ---- Window functions ----

export interface ProcessWindowContext<W extends Window = TimeWindow> {
  readonly window: W;
  readonly currentWatermark: number;
  readonly currentProcessingTime: number;
  /** State of this key and window (value, reducing and list states): cleared by you in clear(). */
  readonly windowState: WindowStateStore;
  /** State of this key across its windows. */
  readonly globalState: Pick<KeyedStateStore, 'getState'>;
  output<S>(tag: OutputTag<S>, value: S): void;
}

/** The window's elements (or its aggregate, after reduce/aggregate) with its key and context. */
export abstract class ProcessWindowFunction<IN, OUT, KEY, W extends Window = TimeWindow> {
  open?(ctx: OperatorContext): void;
  abstract process(key: KEY, ctx: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void;
  /** The window is purged for good: clear what you kept in windowState. */
  clear?(ctx: ProcessWindowContext<W>): void;
  close?(): void;
}
export declare namespace ProcessWindowFunction {
  type Context<W extends Window = TimeWindow> = ProcessWindowContext<W>;
}

/** windowAll's: as ProcessWindowFunction, without a key. */
export abstract class ProcessAllWindowFunction<IN, OUT, W extends Window = TimeWindow> {
  open?(ctx: OperatorContext): void;
  abstract process(ctx: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void;
  clear?(ctx: ProcessWindowContext<W>): void;
  close?(): void;
}
export declare namespace ProcessAllWindowFunction {
  type Context<W extends Window = TimeWindow> = ProcessWindowContext<W>;
}

/** Flink's older window function: the window itself rather than a context. */
export abstract class WindowFunction<IN, OUT, KEY, W extends Window = TimeWindow> {
  open?(ctx: OperatorContext): void;
  abstract apply(key: KEY, window: W, input: Iterable<IN>, out: Collector<OUT>): void;
  close?(): void;
}

/** windowAll's WindowFunction: as WindowFunction, without a key. */
export abstract class AllWindowFunction<IN, OUT, W extends Window = TimeWindow> {
  open?(ctx: OperatorContext): void;
  abstract apply(window: W, input: Iterable<IN>, out: Collector<OUT>): void;
  close?(): void;
}

// ---- Evictors ----

/** An element of a window with its timestamp (NaN where it has none: processing time without assigned timestamps). */
export class TimestampedValue<T> {
  readonly value: T;
  readonly timestamp: number;
  constructor(value: T, timestamp: number) {
    this.value = value;
    this.timestamp = timestamp;
  }
  getValue(): T { return this.value; }
  getTimestamp(): number { return this.timestamp; }
  hasTimestamp(): boolean { return !Number.isNaN(this.timestamp); }
}

export interface EvictorContext {
  getCurrentProcessingTime(): number;
  getCurrentWatermark(): number;
}

/**
 * Removes elements from a window when it fires, before the window function sees them or after
 * (Flink's Evictor). `elements` are the window's in arrival order (for a merged session
 * window: each merged window's elements in turn, as Flink gives no order there either):
 * remove entries from the array (splice) and what is left is what the window keeps. A window
 * with an evictor keeps its elements even for reduce and aggregate, which are applied when it
 * fires.
 */
export abstract class Evictor<T, W extends Window = Window> {
  abstract evictBefore(elements: TimestampedValue<T>[], size: number, window: W, ctx: EvictorContext): void;
  abstract evictAfter(elements: TimestampedValue<T>[], size: number, window: W, ctx: EvictorContext): void;
}

/** Removes, in place, the elements `drop` says to, keeping the order of the others. */
function removeWhere<T>(elements: TimestampedValue<T>[], drop: (e: TimestampedValue<T>, i: number) => boolean): void {
  let kept = 0;
  for (let i = 0; i < elements.length; i++) if (!drop(elements[i]!, i)) elements[kept++] = elements[i]!;
  elements.length = kept;
}

/** Either before or after the window function, as `doEvictAfter` says, as Flink's evictors. */
abstract class OneSidedEvictor<T, W extends Window> extends Evictor<T, W> {
  private readonly doEvictAfter: boolean;
  constructor(doEvictAfter: boolean) {
    super();
    this.doEvictAfter = doEvictAfter;
  }
  protected abstract evict(elements: TimestampedValue<T>[], size: number): void;
  evictBefore(elements: TimestampedValue<T>[], size: number): void { if (!this.doEvictAfter) this.evict(elements, size); }
  evictAfter(elements: TimestampedValue<T>[], size: number): void { if (this.doEvictAfter) this.evict(elements, size); }
}

function positiveInteger(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new WeirError(`${what} takes a whole number > 0, got ${String(v)}`);
  return v;
}

/** Keeps the last `maxCount` elements of the window (the first in its order go: the earliest arrivals, but for merged sessions). */
export class CountEvictor<T = unknown, W extends Window = Window> extends OneSidedEvictor<T, W> {
  private readonly maxCount: number;
  private constructor(maxCount: number, doEvictAfter: boolean) {
    super(doEvictAfter);
    this.maxCount = maxCount;
  }
  static of<T = unknown, W extends Window = Window>(maxCount: number, doEvictAfter = false): CountEvictor<T, W> {
    return new CountEvictor<T, W>(positiveInteger(maxCount, 'CountEvictor.of'), doEvictAfter);
  }
  protected evict(elements: TimestampedValue<T>[], size: number): void {
    if (size > this.maxCount) elements.splice(0, size - this.maxCount);
  }
}

/** Keeps the elements within `windowSize` ms of the latest element's timestamp (Flink: those at or before max - size go). */
export class TimeEvictor<T = unknown, W extends Window = Window> extends OneSidedEvictor<T, W> {
  private readonly windowSize: number;
  private constructor(windowSize: number, doEvictAfter: boolean) {
    super(doEvictAfter);
    this.windowSize = windowSize;
  }
  static of<T = unknown, W extends Window = Window>(windowSizeMs: number, doEvictAfter = false): TimeEvictor<T, W> {
    if (typeof windowSizeMs !== 'number' || !(windowSizeMs >= 0)) throw new WeirError(`TimeEvictor.of takes ms >= 0, got ${String(windowSizeMs)}`);
    return new TimeEvictor<T, W>(windowSizeMs, doEvictAfter);
  }
  protected evict(elements: TimestampedValue<T>[]): void {
    // As Flink: elements without timestamps are not evicted by time (it looks at the first).
    if (elements.length === 0 || !elements[0]!.hasTimestamp()) return;
    let max = -Infinity;
    for (const e of elements) if (e.timestamp > max) max = e.timestamp;
    const cutoff = max - this.windowSize;
    removeWhere(elements, (e) => e.timestamp <= cutoff);
  }
}

/** Removes the elements whose delta to the last element is >= threshold. */
export class DeltaEvictor<T = unknown, W extends Window = Window> extends OneSidedEvictor<T, W> {
  private readonly threshold: number;
  private readonly delta: (a: T, b: T) => number;
  private constructor(threshold: number, delta: (a: T, b: T) => number, doEvictAfter: boolean) {
    super(doEvictAfter);
    this.threshold = threshold;
    this.delta = delta;
  }
  static of<T = unknown, W extends Window = Window>(threshold: number, delta: (a: T, b: T) => number, doEvictAfter = false): DeltaEvictor<T, W> {
    if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new WeirError(`DeltaEvictor.of takes a numeric threshold, got ${String(threshold)}`);
    if (typeof delta !== 'function') throw new WeirError('DeltaEvictor.of takes a delta function (a, b) => number');
    return new DeltaEvictor<T, W>(threshold, delta, doEvictAfter);
  }
  protected evict(elements: TimestampedValue<T>[]): void {
    if (elements.length === 0) return;
    const last = elements[elements.length - 1]!.value;
    removeWhere(elements, (e) => this.delta(e.value, last) >= this.threshold);
  }
}
