// DataStream, its keyed and single-operator forms, and sinks: the fluent API that builds the stream graph.
import { WeirError } from '../errors.ts';
import type { DeclaredType, NodeInput, Partitioning, StreamGraph, StreamNode } from '../graph/stream-graph.ts';
import { EXISTING_FILES } from '../sinks/part-files.ts';
import type { ExistingFiles } from '../sinks/part-files.ts';
import type { FilterFunction, FlatMapFunction, KeySelector, MapFunction, ProcessFunction } from './functions.ts';
import type { OperatorFactory, OutputTag } from './operator.ts';
import { FieldAggregation, ReduceProcess } from './keyed-aggregations.ts';
import type { Field } from './keyed-aggregations.ts';
import { KeyedProcessFunction } from './keyed-process-function.ts';
import { WatermarkStrategy } from './watermarks.ts';
import { AllWindowedStream, WindowedStream } from './windowed-stream.ts';
import { BroadcastConnectedStream, BroadcastStream, ConnectedStreams, IntervalJoin, JoinedStreams } from './connected-streams.ts';
import type { MapStateDescriptor } from '../state/descriptors.ts';
import { CountEvictor, CountTrigger, GlobalWindows, PurgingTrigger } from './windows.ts';
import type { Evictor, GlobalWindow, Trigger, Window, WindowAssigner } from './windows.ts';

/** Where a stream's records come from: one or more (node, output) pairs, after union. */
interface Upstream {
  readonly node: StreamNode;
  readonly tag: string | null;
}

/** A sink as `sinkTo` takes it: fileSink(dir), or your own operator. */
export interface SinkDescriptor {
  readonly kind: string;
  readonly name: string;
  readonly params: Record<string, unknown>;
}

export class DataStream<T> {
  protected readonly graph: StreamGraph;
  protected readonly upstreams: readonly Upstream[];
  protected readonly partitioning: Partitioning | undefined;

  constructor(graph: StreamGraph, upstreams: readonly Upstream[], partitioning?: Partitioning) {
    this.graph = graph;
    this.upstreams = upstreams;
    this.partitioning = partitioning;
  }

  protected inputs(): NodeInput[] {
    return this.upstreams.map((u) => ({ node: u.node, tag: u.tag, partitioning: this.partitioning }));
  }

  protected then<O>(kind: string, name: string, params: Record<string, unknown>, stateful = false): SingleOutputStreamOperator<O> {
    const node = this.graph.add(kind, name, this.inputs(), params, stateful);
    return new SingleOutputStreamOperator<O>(this.graph, node);
  }

  /** @internal This stream as inputs of a two-input node's `side`. */
  inputsOf(side: 1 | 2): NodeInput[] {
    return this.inputs().map((i) => (side === 2 ? { ...i, side: 2 as const } : i));
  }

  /** @internal A node with the given inputs (two-input operators build theirs with it). */
  addNode<O>(kind: string, name: string, inputs: NodeInput[], params: Record<string, unknown>, stateful: boolean): SingleOutputStreamOperator<O> {
    return new SingleOutputStreamOperator<O>(this.graph, this.graph.add(kind, name, inputs, params, stateful));
  }

  /**
   * Two streams into one two-input operator: `a.connect(b).process(coProcessFn)`, keyed with
   * `.keyBy(keyA, keyB)`; or the broadcast state pattern with a BroadcastStream.
   */
  connect<R>(other: DataStream<R>): ConnectedStreams<T, R>;
  connect<R>(other: BroadcastStream<R>): BroadcastConnectedStream<T, R>;
  connect<R>(other: DataStream<R> | BroadcastStream<R>): ConnectedStreams<T, R> | BroadcastConnectedStream<T, R> {
    if (other instanceof BroadcastStream) return new BroadcastConnectedStream<T, R>(this, other, this instanceof KeyedStream);
    if (!(other instanceof DataStream)) throw new WeirError('connect() takes a DataStream or a BroadcastStream (stream.broadcast(descriptor))');
    return new ConnectedStreams<T, R>(this, other);
  }

  /** A window join: `a.join(b).where(keyA).equalTo(keyB).window(assigner).apply((x, y) => ...)`. */
  join<R>(other: DataStream<R>): JoinedStreams<T, R> {
    return new JoinedStreams<T, R>(this, other);
  }

  /** @internal An operator node reading this stream (the windowed streams build theirs with it). */
  addOperator<O>(kind: string, name: string, params: Record<string, unknown>, stateful = false): SingleOutputStreamOperator<O> {
    return this.then<O>(kind, name, params, stateful);
  }

  /** Every element in windows of the whole stream, in one operator (parallelism 1), as Flink's windowAll. */
  windowAll<W extends Window>(assigner: WindowAssigner<T, W>): AllWindowedStream<T, W> {
    return new AllWindowedStream<T, W>(this, assigner);
  }

  /** Count windows over the whole stream, as KeyedStream.countWindow. */
  countWindowAll(size: number, slide?: number): AllWindowedStream<T, GlobalWindow> {
    return countWindows(this.windowAll(GlobalWindows.create<T>()), size, slide);
  }

  map<O>(fn: MapFunction<T, O>): SingleOutputStreamOperator<O> {
    return this.then('map', 'Map', { fn: checkFn(fn, 'map') });
  }

  filter(fn: FilterFunction<T>): SingleOutputStreamOperator<T> {
    return this.then('filter', 'Filter', { fn: checkFn(fn, 'filter') });
  }

  flatMap<O>(fn: FlatMapFunction<T, O>): SingleOutputStreamOperator<O> {
    return this.then('flatMap', 'FlatMap', { fn: checkFn(fn, 'flatMap') });
  }

  process<O>(fn: ProcessFunction<T, O>): SingleOutputStreamOperator<O> {
    if (fn === null || typeof fn !== 'object' || typeof fn.processElement !== 'function') {
      throw new WeirError('process() takes a ProcessFunction (an object with processElement)');
    }
    return this.then('process', fn.constructor?.name || 'Process', { fn });
  }

  /** An operator of your own, built per subtask by `factory` (the operator SPI). */
  transform<O>(name: string, factory: OperatorFactory<T, O>, opts: { stateful?: boolean } = {}): SingleOutputStreamOperator<O> {
    return this.then('operator', name, { factory: checkFn(factory, 'transform') }, opts.stateful ?? false);
  }

  /**
   * Event time: each record's timestamp from the strategy's assigner (or the one it carries),
   * and watermarks from its generator, periodic every autoWatermarkInterval ms and/or on events.
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): SingleOutputStreamOperator<T> {
    if (!(strategy instanceof WatermarkStrategy)) {
      throw new WeirError('assignTimestampsAndWatermarks takes a WatermarkStrategy (WatermarkStrategy.forBoundedOutOfOrderness(ms), ...)');
    }
    return this.then('timestamps', 'Timestamps/Watermarks', { strategy });
  }

  keyBy<K>(selector: KeySelector<T, K>): KeyedStream<T, K> {
    checkFn(selector, 'keyBy');
    return new KeyedStream<T, K>(this.graph, this.upstreams, { kind: 'keyBy', keySelector: selector as KeySelector<unknown, unknown> });
  }

  rebalance(): DataStream<T> { return new DataStream<T>(this.graph, this.upstreams, { kind: 'rebalance' }); }
  rescale(): DataStream<T> { return new DataStream<T>(this.graph, this.upstreams, { kind: 'rescale' }); }
  /** Every record to every subtask; with descriptors, a BroadcastStream for the broadcast state pattern (connect it). */
  broadcast(): DataStream<T>;
  broadcast(...descriptors: MapStateDescriptor<unknown, unknown>[]): BroadcastStream<T>;
  broadcast(...descriptors: MapStateDescriptor<unknown, unknown>[]): DataStream<T> | BroadcastStream<T> {
    if (descriptors.length > 0) return new BroadcastStream<T>(this, descriptors);
    return new DataStream<T>(this.graph, this.upstreams, { kind: 'broadcast' });
  }
  forward(): DataStream<T> { return new DataStream<T>(this.graph, this.upstreams, { kind: 'forward' }); }

  union(...others: DataStream<T>[]): DataStream<T> {
    const all = [this, ...others];
    if (all.some((s) => s.partitioning !== undefined)) {
      throw new WeirError('union() takes streams before any partitioning; call keyBy/rebalance after union');
    }
    return new DataStream<T>(this.graph, all.flatMap((s) => s.upstreams));
  }

  sinkTo(sink: SinkDescriptor): DataStreamSink {
    return new DataStreamSink(this.graph.add(sink.kind, sink.name, this.inputs(), sink.params));
  }

  /** Prints each record on standard output, prefixed by the subtask number when parallel. */
  print(prefix?: string): DataStreamSink {
    return this.sinkTo({ kind: 'sink:print', name: 'Print', params: { prefix } });
  }

  /** Sends records back to the submitting thread through a ring; they appear in the job result. */
  collect(): DataStreamSink {
    return this.sinkTo({ kind: 'sink:collect', name: 'Collect', params: {} });
  }

  /** Drops every record (benchmarks). */
  discard(): DataStreamSink {
    return this.sinkTo({ kind: 'sink:discard', name: 'Discard', params: {} });
  }
}

export class KeyedStream<T, K> extends DataStream<T> {
  declare readonly __key?: K;

  /** A KeyedProcessFunction sees the current key, keyed state and timers. */
  override process<O>(fn: ProcessFunction<T, O> | KeyedProcessFunction<K, T, O>): SingleOutputStreamOperator<O> {
    if (!(fn instanceof KeyedProcessFunction)) return super.process(fn as ProcessFunction<T, O>);
    return this.then('keyedProcess', fn.constructor?.name || 'KeyedProcess', { fn }, true);
  }

  /** An interval join: `a.keyBy(k).intervalJoin(b.keyBy(k)).between(-5, 5).process(joinFn)`. */
  intervalJoin<R>(other: KeyedStream<R, K>): IntervalJoin<T, R, K> {
    if (!(other instanceof KeyedStream)) throw new WeirError('intervalJoin() takes a keyed stream (keyBy(...))');
    return new IntervalJoin<T, R, K>(this, other);
  }

  /** Windows per key: `.window(TumblingEventTimeWindows.of(1000)).aggregate(...)`. */
  window<W extends Window>(assigner: WindowAssigner<T, W>): WindowedStream<T, K, W> {
    return new WindowedStream<T, K, W>(this, assigner);
  }

  /**
   * Count windows per key, as Flink's: `countWindow(n)` fires and purges every n elements of a
   * key; `countWindow(size, slide)` fires every `slide` elements over the last `size` (global
   * windows with a count trigger, and a count evictor for the sliding kind).
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K, GlobalWindow> {
    return countWindows(this.window(GlobalWindows.create<T>()), size, slide);
  }

  /** The running reduction per key: one output per input. */
  reduce(fn: (a: T, b: T) => T): SingleOutputStreamOperator<T> {
    if (typeof fn !== 'function') throw new WeirError('reduce() takes a function (a, b) => c');
    return this.aggregate('Reduce', new ReduceProcess<T>(fn));
  }

  sum(field?: Field): SingleOutputStreamOperator<T> { return this.aggregate('Sum', new FieldAggregation<T>('sum', field)); }
  min(field?: Field): SingleOutputStreamOperator<T> { return this.aggregate('Min', new FieldAggregation<T>('min', field)); }
  max(field?: Field): SingleOutputStreamOperator<T> { return this.aggregate('Max', new FieldAggregation<T>('max', field)); }
  minBy(field?: Field): SingleOutputStreamOperator<T> { return this.aggregate('MinBy', new FieldAggregation<T>('minBy', field)); }
  maxBy(field?: Field): SingleOutputStreamOperator<T> { return this.aggregate('MaxBy', new FieldAggregation<T>('maxBy', field)); }

  private aggregate(name: string, fn: KeyedProcessFunction<unknown, T, T>): SingleOutputStreamOperator<T> {
    return this.then<T>('keyedProcess', name, { fn }, true);
  }
}

/** A stream produced by one operator: the place to set its uid, name, parallelism and record type. */
export class SingleOutputStreamOperator<T> extends DataStream<T> {
  readonly node: StreamNode;

  constructor(graph: StreamGraph, node: StreamNode) {
    super(graph, [{ node, tag: null }]);
    this.node = node;
  }

  /**
   * fromSource(source, strategy): the source node behind this stream's assigner. uid, name
   * and parallelism then name the source (the assigner's uid is the source's plus
   * '.timestamps'), as in Flink, where the watermark strategy is part of the source.
   */
  private source: StreamNode | undefined;

  /** @internal */
  asPartOfSource(source: StreamNode): this {
    this.source = source;
    return this;
  }

  uid(uid: string): this {
    if (typeof uid !== 'string' || uid === '') throw new WeirError('uid() takes a non-empty string');
    if (this.source !== undefined) {
      this.source.userUid = uid;
      this.node.userUid = `${uid}.timestamps`;
    } else {
      this.node.userUid = uid;
    }
    return this;
  }

  name(name: string): this {
    (this.source ?? this.node).name = name;
    return this;
  }

  setParallelism(p: number): this {
    if (!Number.isInteger(p) || p < 1) throw new WeirError(`setParallelism needs a positive integer, got ${p}`, { uid: this.node.userUid });
    this.node.parallelism = p;
    if (this.source !== undefined) this.source.parallelism = p;
    return this;
  }

  /** Declares the record type, so every edge out of this operator uses its schema codec. */
  returns(type: DeclaredType): this {
    if (type === null || typeof type !== 'object' || typeof type.descriptor !== 'string') {
      throw new WeirError('returns() takes a type from Types (Types.INT32, Types.TUPLE(...), Types.ROW({...}))');
    }
    this.node.outType = type;
    return this;
  }

  /** The records this operator sent to side output `tag` (ctx.output(tag, v)), as a stream of their own. */
  getSideOutput<S>(tag: OutputTag<S>): DataStream<S> {
    this.node.sideOutputs.add(tag.id);
    return new DataStream<S>(this.graph, [{ node: this.node, tag: tag.id }]);
  }

  /** The same as getSideOutput(tag) (Flink's name): the name the API summary gives it. */
  sideOutput<S>(tag: OutputTag<S>): DataStream<S> {
    return this.getSideOutput(tag);
  }
}

export class DataStreamSink {
  readonly node: StreamNode;
  constructor(node: StreamNode) { this.node = node; }
  uid(uid: string): this { this.node.userUid = uid; return this; }
  name(name: string): this { this.node.name = name; return this; }
  setParallelism(p: number): this {
    if (!Number.isInteger(p) || p < 1) throw new WeirError(`setParallelism needs a positive integer, got ${p}`);
    this.node.parallelism = p;
    return this;
  }
}

export interface FileSinkOptions {
  /**
   * Finished part files of an earlier run in the directory: 'fail' (the default) refuses to
   * start, 'overwrite' removes them first, 'keep' writes beside them. In-progress files of
   * a crashed run are always removed: they were never output.
   */
  existing?: ExistingFiles;
}

/**
 * Writes JSON lines as part files in `dir` (relative paths resolve against the working
 * directory of the process that runs the job), one per subtask and run; in-progress files
 * end in `.inprogress`.
 */
export function fileSink(dir: string, options: FileSinkOptions = {}): SinkDescriptor {
  if (typeof dir !== 'string' || dir === '') throw new WeirError('fileSink() needs a directory path');
  const existing = options.existing ?? 'fail';
  if (!EXISTING_FILES.includes(existing)) {
    throw new WeirError(`fileSink option 'existing' must be one of ${EXISTING_FILES.join(', ')}, got ${JSON.stringify(existing)}`);
  }
  return { kind: 'sink:file', name: 'FileSink', params: { dir, existing } };
}

function checkFn<F>(fn: F, what: string): F {
  if (typeof fn !== 'function') throw new WeirError(`${what}() takes a function, got ${typeof fn}`);
  return fn;
}

/** Flink's count windows: a purging count trigger, or (sliding) a count trigger with a count evictor. */
function countWindows<S extends { trigger(t: Trigger<T, GlobalWindow>): S; evictor(e: Evictor<T, GlobalWindow>): S }, T>(
  windowed: S, size: number, slide: number | undefined): S {
  if (slide === undefined) return windowed.trigger(PurgingTrigger.of(CountTrigger.of<T, GlobalWindow>(size)));
  return windowed.evictor(CountEvictor.of<T, GlobalWindow>(size)).trigger(CountTrigger.of<T, GlobalWindow>(slide));
}
