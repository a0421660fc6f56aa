// WindowedStream and AllWindowedStream: keyBy(...).window(assigner) and windowAll(assigner), with Flink's builder methods.
import { WeirError } from '../errors.ts';
import type { AggregateFunction } from '../state/descriptors.ts';
import { fieldReducer } from './keyed-aggregations.ts';
import type { Field } from './keyed-aggregations.ts';
import type { DataStream, KeyedStream, SingleOutputStreamOperator } from './datastream.ts';
import { OutputTag } from './operator.ts';
import { AllWindowFunction, Evictor, ProcessAllWindowFunction, ProcessWindowFunction, Trigger, WindowAssigner, WindowFunction } from './windows.ts';
import type { ProcessWindowContext, Window } from './windows.ts';
import type { Collector, OperatorContext } from './operator.ts';

/** An AggregateFunction for windows: `merge` is needed by session (merging) windows. */
export interface WindowAggregateFunction<IN, ACC, OUT> extends AggregateFunction<IN, ACC, OUT> {
  merge?(a: ACC, b: ACC): ACC;
}

interface Settings {
  trigger: Trigger<unknown, Window> | undefined;
  evictor: Evictor<unknown, Window> | undefined;
  allowedLateness: number;
  lateTag: OutputTag<unknown> | undefined;
}

function checkAssigner(assigner: unknown, what: string): void {
  if (!(assigner instanceof WindowAssigner)) {
    throw new WeirError(`${what}() takes a window assigner (TumblingEventTimeWindows.of(ms), SlidingEventTimeWindows.of(size, slide), `
      + 'EventTimeSessionWindows.withGap(ms), GlobalWindows.create(), or the processing-time ones)');
  }
}

/** What a window node's operator is built from (actors/operators/window.ts reads it). */
function windowNode<O>(keyed: KeyedStream<unknown, unknown>, name: string, assigner: WindowAssigner<unknown, Window>, s: Settings,
  contents: Record<string, unknown>, all: boolean): SingleOutputStreamOperator<O> {
  const op = keyed.addOperator<O>('window', name, {
    spec: { assigner, trigger: s.trigger, evictor: s.evictor, allowedLateness: s.allowedLateness, lateTag: s.lateTag, contents },
  }, true);
  if (all) op.node.parallelism = 1;
  return op;
}

abstract class Windowed<T, W extends Window> {
  protected readonly settings: Settings = { trigger: undefined, evictor: undefined, allowedLateness: 0, lateTag: undefined };

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<T, W>): this {
    if (!(trigger instanceof Trigger)) throw new WeirError('trigger() takes a Trigger (EventTimeTrigger.create(), CountTrigger.of(n), ...)');
    this.settings.trigger = trigger as unknown as Trigger<unknown, Window>;
    return this;
  }

  /**
   * Removes elements of a window when it fires, before or after the window function
   * (CountEvictor.of(n), TimeEvictor.of(ms), DeltaEvictor.of(threshold, fn)). The window then
   * keeps its elements, even for reduce and aggregate, which run over them when it fires.
   */
  evictor(evictor: Evictor<T, W>): this {
    if (!(evictor instanceof Evictor)) throw new WeirError('evictor() takes an Evictor (CountEvictor.of(n), TimeEvictor.of(ms), DeltaEvictor.of(threshold, fn))');
    this.settings.evictor = evictor as unknown as Evictor<unknown, Window>;
    return this;
  }

  /** Elements up to `ms` behind the watermark still update their window (which fires again); later ones are late. */
  allowedLateness(ms: number): this {
    if (typeof ms !== 'number' || !(ms >= 0) || Number.isNaN(ms)) throw new WeirError(`allowedLateness takes ms >= 0, got ${String(ms)}`);
    this.settings.allowedLateness = ms;
    return this;
  }

  /** Late elements go to this side output (getSideOutput(tag) on the result) instead of being dropped and counted. */
  sideOutputLateData(tag: OutputTag<T>): this {
    if (!(tag instanceof OutputTag)) throw new WeirError('sideOutputLateData() takes an OutputTag');
    this.settings.lateTag = tag as OutputTag<unknown>;
    return this;
  }
}

export class WindowedStream<T, K, W extends Window = Window> extends Windowed<T, W> {
  private readonly keyed: KeyedStream<T, K>;
  private readonly assigner: WindowAssigner<T, W>;

  constructor(keyed: KeyedStream<T, K>, assigner: WindowAssigner<T, W>) {
    super();
    checkAssigner(assigner, 'window');
    this.keyed = keyed;
    this.assigner = assigner;
  }

  private build<O>(name: string, contents: Record<string, unknown>): SingleOutputStreamOperator<O> {
    return windowNode<O>(this.keyed as unknown as KeyedStream<unknown, unknown>, name, this.assigner as unknown as WindowAssigner<unknown, Window>,
      this.settings, contents, false);
  }

  /** One value per key and window, reduced as elements come; `windowFn` (optional) sees it with the window. */
  reduce<O = T>(fn: (a: T, b: T) => T, windowFn?: KeyedWindowFn<T, O, K, W>): SingleOutputStreamOperator<O> {
    if (typeof fn !== 'function') throw new WeirError('reduce() takes a function (a, b) => c');
    return this.build<O>('WindowReduce', { kind: 'reduce', reduce: fn, windowFn: checkWindowFn(windowFn) });
  }

  /** Per key and window, the sum of a field (a tuple position, an object field, or the records themselves); min, max, minBy, maxBy alike. */
  sum(field?: Field): SingleOutputStreamOperator<T> { return this.build<T>('WindowSum', { kind: 'reduce', reduce: fieldReducer('sum', field) }); }
  min(field?: Field): SingleOutputStreamOperator<T> { return this.build<T>('WindowMin', { kind: 'reduce', reduce: fieldReducer('min', field) }); }
  max(field?: Field): SingleOutputStreamOperator<T> { return this.build<T>('WindowMax', { kind: 'reduce', reduce: fieldReducer('max', field) }); }
  minBy(field?: Field): SingleOutputStreamOperator<T> { return this.build<T>('WindowMinBy', { kind: 'reduce', reduce: fieldReducer('minBy', field) }); }
  maxBy(field?: Field): SingleOutputStreamOperator<T> { return this.build<T>('WindowMaxBy', { kind: 'reduce', reduce: fieldReducer('maxBy', field) }); }

  /** One accumulator per key and window; the result is getResult's, or what `windowFn` makes of it. */
  aggregate<ACC, R, O = R>(agg: WindowAggregateFunction<T, ACC, R>, windowFn?: KeyedWindowFn<R, O, K, W>): SingleOutputStreamOperator<O> {
    checkAggregate(agg);
    return this.build<O>('WindowAggregate', { kind: 'aggregate', aggregate: agg, windowFn: checkWindowFn(windowFn) });
  }

  /** All of a window's elements at once, to a WindowFunction (or a function (key, window, elements, out)). */
  apply<O>(fn: WindowFunction<T, O, K, W> | WindowApply<T, O, K, W>): SingleOutputStreamOperator<O> {
    const adapted = checkWindowFn(fn)!;
    return this.build<O>(fn.constructor?.name && fn.constructor !== Function ? fn.constructor.name : 'WindowApply', { kind: 'process', windowFn: adapted });
  }

  /** All of a window's elements at once (kept in state until it fires). */
  process<O>(fn: ProcessWindowFunction<T, O, K, W>): SingleOutputStreamOperator<O> {
    if (!(fn instanceof ProcessWindowFunction)) throw new WeirError('process() on a windowed stream takes a ProcessWindowFunction');
    return this.build<O>(fn.constructor?.name || 'WindowProcess', { kind: 'process', windowFn: fn });
  }
}

type WindowApply<IN, OUT, K, W extends Window> = (key: K, window: W, input: Iterable<IN>, out: Collector<OUT>) => void;
type AllWindowApply<IN, OUT, W extends Window> = (window: W, input: Iterable<IN>, out: Collector<OUT>) => void;
/** What reduce and aggregate take as their window function: Flink's ProcessWindowFunction or WindowFunction. */
type KeyedWindowFn<IN, OUT, K, W extends Window> = ProcessWindowFunction<IN, OUT, K, W> | WindowFunction<IN, OUT, K, W>;
type AllWindowFn<IN, OUT, W extends Window> = ProcessAllWindowFunction<IN, OUT, W> | AllWindowFunction<IN, OUT, W>;
type UserWindowFn = ProcessAllWindowFunction<unknown, unknown, Window> | WindowFunction<unknown, unknown, unknown, Window>
  | AllWindowFunction<unknown, unknown, Window> | Record<string, never>;

/**
 * The user's window function as the keyed window operator calls it (a ProcessWindowFunction):
 * windowAll's without the (constant) key, a WindowFunction with the window in place of the context.
 */
export class AllWindowAdapter<IN, OUT, W extends Window> extends ProcessWindowFunction<IN, OUT, unknown, W> {
  /** The user's function: its state descriptors are the ones registered. */
  readonly fn: UserWindowFn;
  private readonly call: (key: unknown, ctx: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>) => void;
  constructor(fn: UserWindowFn, call: AllWindowAdapter<IN, OUT, W>['call']) {
    super();
    this.fn = fn;
    this.call = call;
  }
  override open(ctx: OperatorContext) { (this.fn as { open?(c: OperatorContext): void }).open?.(ctx); }
  process(key: unknown, ctx: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void {
    this.call(key, ctx, elements, out);
  }
  override clear(ctx: ProcessWindowContext<W>) { (this.fn as { clear?(c: ProcessWindowContext<W>): void }).clear?.(ctx); }
  override close() { (this.fn as { close?(): void }).close?.(); }
}

/** windowAll: every element in one window operator (parallelism 1), as Flink's AllWindowedStream. */
export class AllWindowedStream<T, W extends Window = Window> extends Windowed<T, W> {
  private readonly keyed: KeyedStream<T, number>;
  private readonly assigner: WindowAssigner<T, W>;

  constructor(stream: DataStream<T>, assigner: WindowAssigner<T, W>) {
    super();
    checkAssigner(assigner, 'windowAll');
    this.keyed = stream.keyBy(() => 0);
    this.assigner = assigner;
  }

  private build<O>(name: string, contents: Record<string, unknown>): SingleOutputStreamOperator<O> {
    return windowNode<O>(this.keyed as unknown as KeyedStream<unknown, unknown>, name, this.assigner as unknown as WindowAssigner<unknown, Window>,
      this.settings, contents, true);
  }

  reduce<O = T>(fn: (a: T, b: T) => T, windowFn?: AllWindowFn<T, O, W>): SingleOutputStreamOperator<O> {
    if (typeof fn !== 'function') throw new WeirError('reduce() takes a function (a, b) => c');
    return this.build<O>('AllWindowReduce', { kind: 'reduce', reduce: fn, windowFn: allFn(windowFn) });
  }

  sum(field?: Field): SingleOutputStreamOperator<T> { return this.build<T>('AllWindowSum', { kind: 'reduce', reduce: fieldReducer('sum', field) }); }
  min(field?: Field): SingleOutputStreamOperator<T> { return this.build<T>('AllWindowMin', { kind: 'reduce', reduce: fieldReducer('min', field) }); }
  max(field?: Field): SingleOutputStreamOperator<T> { return this.build<T>('AllWindowMax', { kind: 'reduce', reduce: fieldReducer('max', field) }); }

  aggregate<ACC, R, O = R>(agg: WindowAggregateFunction<T, ACC, R>, windowFn?: AllWindowFn<R, O, W>): SingleOutputStreamOperator<O> {
    checkAggregate(agg);
    return this.build<O>('AllWindowAggregate', { kind: 'aggregate', aggregate: agg, windowFn: allFn(windowFn) });
  }

  /** All of the window's elements at once, to an AllWindowFunction (or a function (window, elements, out)). */
  apply<O>(fn: AllWindowFunction<T, O, W> | AllWindowApply<T, O, W>): SingleOutputStreamOperator<O> {
    const adapted = allFn(fn)!;
    return this.build<O>(fn.constructor?.name && fn.constructor !== Function ? fn.constructor.name : 'AllWindowApply', { kind: 'process', windowFn: adapted });
  }

  process<O>(fn: ProcessAllWindowFunction<T, O, W>): SingleOutputStreamOperator<O> {
    if (!(fn instanceof ProcessAllWindowFunction)) throw new WeirError('process() on windowAll takes a ProcessAllWindowFunction');
    return this.build<O>(fn.constructor?.name || 'AllWindowProcess', { kind: 'process', windowFn: allFn(fn) });
  }
}

function allFn<IN, OUT, W extends Window>(fn: AllWindowFn<IN, OUT, W> | AllWindowApply<IN, OUT, W> | undefined): AllWindowAdapter<IN, OUT, W> | undefined {
  if (fn === undefined) return undefined;
  if (fn instanceof ProcessAllWindowFunction) return new AllWindowAdapter<IN, OUT, W>(fn as UserWindowFn, (_, ctx, xs, out) => fn.process(ctx, xs, out));
  if (fn instanceof AllWindowFunction) return new AllWindowAdapter<IN, OUT, W>(fn as UserWindowFn, (_, ctx, xs, out) => fn.apply(ctx.window, xs, out));
  if (typeof fn === 'function') return new AllWindowAdapter<IN, OUT, W>({}, (_, ctx, xs, out) => fn(ctx.window, xs, out));
  throw new WeirError('the window function of windowAll is a ProcessAllWindowFunction, an AllWindowFunction or a function (window, elements, out)');
}

function checkWindowFn<IN, OUT, K, W extends Window>(fn: KeyedWindowFn<IN, OUT, K, W> | WindowApply<IN, OUT, K, W> | undefined)
  : ProcessWindowFunction<IN, OUT, K, W> | undefined {
  if (fn === undefined || fn instanceof ProcessWindowFunction) return fn;
  if (fn instanceof WindowFunction) {
    return new AllWindowAdapter<IN, OUT, W>(fn as UserWindowFn, (key, ctx, xs, out) => fn.apply(key as K, ctx.window, xs, out)) as ProcessWindowFunction<IN, OUT, K, W>;
  }
  if (typeof fn === 'function') {
    return new AllWindowAdapter<IN, OUT, W>({}, (key, ctx, xs, out) => fn(key as K, ctx.window, xs, out)) as ProcessWindowFunction<IN, OUT, K, W>;
  }
  throw new WeirError('the window function is a ProcessWindowFunction, a WindowFunction or a function (key, window, elements, out)');
}

function checkAggregate(agg: unknown): void {
  const a = agg as Record<string, unknown> | null;
  if (a === null || typeof a !== 'object' || typeof a['createAccumulator'] !== 'function' || typeof a['add'] !== 'function'
    || typeof a['getResult'] !== 'function') {
    throw new WeirError('aggregate() takes an AggregateFunction { createAccumulator, add, getResult } (and merge, for session windows)');
  }
}
