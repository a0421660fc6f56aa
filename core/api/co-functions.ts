// Two-input functions: CoProcessFunction, KeyedCoProcessFunction, the broadcast state pattern's, and ProcessJoinFunction.
import type { KeyedStateStore, StateHandle } from '../state/keyed-state.ts';
import type { MapStateDescriptor, StateDescriptor } from '../state/descriptors.ts';
import type { KeyedContext, OnTimerContext, TimerService } from './keyed-process-function.ts';
import type { ProcessContext } from './functions.ts';
import type { Collector, OperatorContext, OutputTag } from './operator.ts';

/** connect(...).process(...) on two streams not keyed: one function per input, state in operator lists. */
export abstract class CoProcessFunction<I1, I2, O> {
  open?(ctx: OperatorContext): void;
  abstract processElement1(value: I1, ctx: ProcessContext, out: Collector<O>): void;
  abstract processElement2(value: I2, ctx: ProcessContext, out: Collector<O>): void;
  close?(): void;
}

/** The context of a keyed two-input function: a KeyedProcessFunction's (current key, keyed state, timers, shared by both inputs). */
export type KeyedCoContext<K> = KeyedContext<K>;

/** connect(...).keyBy(k1, k2).process(...): both inputs keyed alike; keyed state and timers shared by both sides of a key. */
export abstract class KeyedCoProcessFunction<K, I1, I2, O> {
  open?(ctx: OperatorContext, state: KeyedStateStore): void;
  abstract processElement1(value: I1, ctx: KeyedCoContext<K>, out: Collector<O>): void;
  abstract processElement2(value: I2, ctx: KeyedCoContext<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  close?(): void;
}
export declare namespace KeyedCoProcessFunction {
  type Context<K> = KeyedCoContext<K>;
}

/** Broadcast state, read-only from the keyed (or non-broadcast) side. */
export interface ReadOnlyBroadcastState<K, V> {
  get(key: K): V | undefined;
  contains(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  readonly size: number;
}
export interface BroadcastState<K, V> extends ReadOnlyBroadcastState<K, V> {
  put(key: K, value: V): void;
  remove(key: K): void;
  clear(): void;
}

export interface BroadcastReadOnlyContext {
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>;
  output<S>(tag: OutputTag<S>, value: S): void;
  timestamp(): number | null;
  currentWatermark(): number;
  readonly runtime: OperatorContext;
}
export interface BroadcastContext extends BroadcastReadOnlyContext {
  getBroadcastState<K, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
}

export interface KeyedBroadcastReadOnlyContext<K> extends BroadcastReadOnlyContext {
  readonly currentKey: K;
  state<D extends StateDescriptor<unknown>>(descriptor: D): StateHandle<D>;
  timerService(): TimerService;
}
export type KeyedBroadcastContext = BroadcastContext;

/**
 * The broadcast state pattern (Flink's): the broadcast side's elements reach every subtask and
 * may change the broadcast state; the keyed side reads it. Every subtask must change it alike
 * (the same elements in the same order do), since each keeps its own copy.
 */
export abstract class KeyedBroadcastProcessFunction<K, IN1, IN2, O> {
  open?(ctx: OperatorContext, state: KeyedStateStore): void;
  abstract processElement(value: IN1, ctx: KeyedBroadcastReadOnlyContext<K>, out: Collector<O>): void;
  abstract processBroadcastElement(value: IN2, ctx: KeyedBroadcastContext, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<O>): void;
  close?(): void;
}
export declare namespace KeyedBroadcastProcessFunction {
  type ReadOnlyContext<K> = KeyedBroadcastReadOnlyContext<K>;
  type Context = KeyedBroadcastContext;
}

export abstract class BroadcastProcessFunction<IN1, IN2, O> {
  open?(ctx: OperatorContext): void;
  abstract processElement(value: IN1, ctx: BroadcastReadOnlyContext, out: Collector<O>): void;
  abstract processBroadcastElement(value: IN2, ctx: BroadcastContext, out: Collector<O>): void;
  close?(): void;
}
export declare namespace BroadcastProcessFunction {
  type ReadOnlyContext = BroadcastReadOnlyContext;
  type Context = BroadcastContext;
}

/** An interval join's matched pair, with the pair's timestamps. */
export interface ProcessJoinContext {
  readonly leftTimestamp: number;
  readonly rightTimestamp: number;
  /** The larger of the two: what the output is stamped with, as in Flink. */
  readonly timestamp: number;
  output<S>(tag: OutputTag<S>, value: S): void;
}
export abstract class ProcessJoinFunction<L, R, O> {
  abstract processElement(left: L, right: R, ctx: ProcessJoinContext, out: Collector<O>): void;
}
