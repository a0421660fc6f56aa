// connect(): two streams into one two-input operator; broadcast(descriptors) streams; interval and window joins.
import { WeirError } from '../errors.ts';
import type { NodeInput } from '../graph/stream-graph.ts';
import { MapStateDescriptor } from '../state/descriptors.ts';
import {
  BroadcastProcessFunction, CoProcessFunction, KeyedBroadcastProcessFunction, KeyedCoProcessFunction, ProcessJoinFunction,
} from './co-functions.ts';
import type { DataStream, KeyedStream, SingleOutputStreamOperator } from './datastream.ts';
import type { KeySelector } from './functions.ts';
import type { Collector } from './operator.ts';
import { ProcessWindowFunction } from './windows.ts';
import type { ProcessWindowContext, Window, WindowAssigner } from './windows.ts';

/** Two streams with their own types, processed by one two-input function (Flink's ConnectedStreams). */
export class ConnectedStreams<I1, I2> {
  readonly first: DataStream<I1>;
  readonly second: DataStream<I2>;
  private readonly keyed: boolean;

  constructor(first: DataStream<I1>, second: DataStream<I2>, keyed = false) {
    this.first = first;
    this.second = second;
    this.keyed = keyed;
  }

  /** Keys both inputs (the keys must be of one kind): a KeyedCoProcessFunction then sees both sides of a key together. */
  keyBy<K>(key1: KeySelector<I1, K>, key2: KeySelector<I2, K>): ConnectedStreams<I1, I2> {
    if (typeof key1 !== 'function' || typeof key2 !== 'function') throw new WeirError('connect(...).keyBy takes two key selectors');
    return new ConnectedStreams<I1, I2>(this.first.keyBy(key1), this.second.keyBy(key2), true);
  }

  process<O>(fn: CoProcessFunction<I1, I2, O> | KeyedCoProcessFunction<unknown, I1, I2, O>): SingleOutputStreamOperator<O> {
    if (fn instanceof KeyedCoProcessFunction) {
      if (!this.keyed) throw new WeirError('a KeyedCoProcessFunction needs keyed inputs: connect(a, b).keyBy(keyA, keyB) first');
      return twoInput<O>(this.first, this.second, 'keyedCoProcess', fn.constructor?.name || 'KeyedCoProcess', { fn }, true);
    }
    if (!(fn instanceof CoProcessFunction)) throw new WeirError('process() on connected streams takes a CoProcessFunction or KeyedCoProcessFunction');
    return twoInput<O>(this.first, this.second, 'coProcess', fn.constructor?.name || 'CoProcess', { fn }, false);
  }
}

/** A stream whose elements reach every subtask of the operator it is connected to, with the broadcast state they maintain. */
export class BroadcastStream<T> {
  readonly stream: DataStream<T>;
  readonly descriptors: readonly MapStateDescriptor<unknown, unknown>[];
  constructor(stream: DataStream<T>, descriptors: readonly MapStateDescriptor<unknown, unknown>[]) {
    for (const d of descriptors) {
      if (!(d instanceof MapStateDescriptor)) throw new WeirError('broadcast(...) takes MapStateDescriptors, one per broadcast state');
    }
    this.stream = stream;
    this.descriptors = descriptors;
  }
}

export class BroadcastConnectedStream<I1, I2> {
  private readonly main: DataStream<I1>;
  private readonly broadcast: BroadcastStream<I2>;
  private readonly keyed: boolean;
  constructor(main: DataStream<I1>, broadcast: BroadcastStream<I2>, keyed: boolean) {
    this.main = main;
    this.broadcast = broadcast;
    this.keyed = keyed;
  }

  process<O>(fn: KeyedBroadcastProcessFunction<unknown, I1, I2, O> | BroadcastProcessFunction<I1, I2, O>): SingleOutputStreamOperator<O> {
    const params = { fn, descriptors: this.broadcast.descriptors };
    if (fn instanceof KeyedBroadcastProcessFunction) {
      if (!this.keyed) throw new WeirError('a KeyedBroadcastProcessFunction needs a keyed stream: keyBy(...).connect(broadcastStream)');
      return twoInput<O>(this.main, this.broadcast.stream.broadcast(), 'keyedBroadcastProcess', fn.constructor?.name || 'KeyedBroadcastProcess', params, true);
    }
    if (!(fn instanceof BroadcastProcessFunction)) {
      throw new WeirError('process() on a broadcast-connected stream takes a KeyedBroadcastProcessFunction or BroadcastProcessFunction');
    }
    if (this.keyed) throw new WeirError('a keyed stream connected to a broadcast stream takes a KeyedBroadcastProcessFunction');
    return twoInput<O>(this.main, this.broadcast.stream.broadcast(), 'broadcastProcess', fn.constructor?.name || 'BroadcastProcess', params, true);
  }
}

/** The node of a two-input operator: the first stream's inputs on side 1, the second's on side 2. */
function twoInput<O>(first: { inputsOf(side: 1 | 2): NodeInput[] }, second: { inputsOf(side: 1 | 2): NodeInput[] }, kind: string, name: string,
  params: Record<string, unknown>, stateful: boolean): SingleOutputStreamOperator<O> {
  const inputs: NodeInput[] = [...first.inputsOf(1), ...second.inputsOf(2)];
  return (first as unknown as DataStream<unknown>).addNode<O>(kind, name, inputs, params, stateful);
}

/** keyedA.intervalJoin(keyedB).between(lower, upper).process(fn): pairs with b.ts in [a.ts + lower, a.ts + upper]. */
export class IntervalJoin<L, R, K> {
  private readonly left: KeyedStream<L, K>;
  private readonly right: KeyedStream<R, K>;
  constructor(left: KeyedStream<L, K>, right: KeyedStream<R, K>) {
    this.left = left;
    this.right = right;
  }
  between(lower: number, upper: number): IntervalJoined<L, R, K> {
    if (!Number.isFinite(lower) || !Number.isFinite(upper) || lower > upper) {
      throw new WeirError(`intervalJoin(...).between(lower, upper) needs finite bounds with lower <= upper, got ${lower}, ${upper}`);
    }
    return new IntervalJoined<L, R, K>(this.left, this.right, lower, upper);
  }
}

export class IntervalJoined<L, R, K> {
  private readonly left: KeyedStream<L, K>;
  private readonly right: KeyedStream<R, K>;
  private readonly lower: number;
  private readonly upper: number;
  private lowerInclusive = true;
  private upperInclusive = true;
  constructor(left: KeyedStream<L, K>, right: KeyedStream<R, K>, lower: number, upper: number) {
    this.left = left;
    this.right = right;
    this.lower = lower;
    this.upper = upper;
  }
  lowerBoundExclusive(): this { this.lowerInclusive = false; return this; }
  upperBoundExclusive(): this { this.upperInclusive = false; return this; }
  process<O>(fn: ProcessJoinFunction<L, R, O>): SingleOutputStreamOperator<O> {
    if (!(fn instanceof ProcessJoinFunction)) throw new WeirError('intervalJoin(...).process takes a ProcessJoinFunction');
    const lower = this.lowerInclusive ? this.lower : this.lower + 1;
    const upper = this.upperInclusive ? this.upper : this.upper - 1;
    return twoInput<O>(this.left as never, this.right as never, 'intervalJoin', fn.constructor?.name || 'IntervalJoin',
      { fn, lower, upper }, true);
  }
}

/** One side of a window join, tagged so that one window operator holds both. */
type Tagged = { readonly side: 1 | 2; readonly v: unknown };

/** a.join(b).where(keyA).equalTo(keyB).window(assigner).apply((x, y) => ...): every pair of a key's elements in one window. */
export class JoinedStreams<L, R> {
  private readonly left: DataStream<L>;
  private readonly right: DataStream<R>;
  constructor(left: DataStream<L>, right: DataStream<R>) {
    this.left = left;
    this.right = right;
  }
  where<K>(keyLeft: KeySelector<L, K>) {
    return {
      equalTo: (keyRight: KeySelector<R, K>) => ({
        window: <W extends Window>(assigner: WindowAssigner<unknown, W>) => ({
          apply: <O>(join: (left: L, right: R) => O): SingleOutputStreamOperator<O> => {
            if (typeof join !== 'function') throw new WeirError('join(...).apply takes a function (left, right) => result');
            const tagged = this.left.map((v): Tagged => ({ side: 1, v })).name('JoinLeft')
              .union(this.right.map((v): Tagged => ({ side: 2, v })).name('JoinRight'));
            return tagged.keyBy((t) => (t.side === 1 ? keyLeft(t.v as L) : keyRight(t.v as R)))
              .window(assigner as WindowAssigner<Tagged, W>)
              .process(new CrossJoin<L, R, O, W>(join)) as SingleOutputStreamOperator<O>;
          },
        }),
      }),
    };
  }
}

/** Every left element with every right element of the window, in arrival order. */
class CrossJoin<L, R, O, W extends Window> extends ProcessWindowFunction<Tagged, O, unknown, W> {
  private readonly join: (left: L, right: R) => O;
  constructor(join: (left: L, right: R) => O) {
    super();
    this.join = join;
  }
  process(_: unknown, __: ProcessWindowContext<W>, elements: Iterable<Tagged>, out: Collector<O>): void {
    const lefts: L[] = [];
    const rights: R[] = [];
    for (const e of elements) (e.side === 1 ? lefts : rights).push(e.v as never);
    for (const l of lefts) for (const r of rights) out.collect(this.join(l, r));
  }
}
