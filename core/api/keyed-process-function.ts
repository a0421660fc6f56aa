// KeyedProcessFunction: per-record processing with the current key, keyed state, timers and side outputs.
import type { KeyedStateStore, StateHandle } from '../state/keyed-state.ts';
import type { StateDescriptor } from '../state/descriptors.ts';
import type { Collector, OperatorContext, OutputTag } from './operator.ts';

export interface TimerService {
  currentProcessingTime(): number;
  currentWatermark(): number;
  registerEventTimeTimer(timestamp: number): void;
  registerProcessingTimeTimer(timestamp: number): void;
  deleteEventTimeTimer(timestamp: number): void;
  deleteProcessingTimeTimer(timestamp: number): void;
}

export type TimeDomain = 'EVENT_TIME' | 'PROCESSING_TIME';

export interface KeyedContext<K> {
  readonly currentKey: K;
  /** The handle of a piece of keyed state, scoped to the current key. */
  state<D extends StateDescriptor<unknown>>(descriptor: D): StateHandle<D>;
  timerService(): TimerService;
  output<S>(tag: OutputTag<S>, value: S): void;
  /** The event timestamp of the record being processed (in onTimer: the timer's), or null when it has none. */
  timestamp(): number | null;
  readonly runtime: OperatorContext;
}

export interface OnTimerContext<K> extends KeyedContext<K> {
  timeDomain(): TimeDomain;
}

/** Subclass it; keyed state is reached through ctx.state(descriptor). */
export abstract class KeyedProcessFunction<K, I, O> {
  open?(ctx: OperatorContext, state: KeyedStateStore): void;
  abstract processElement(value: I, ctx: KeyedProcessFunction.Context<K>, out: Collector<O>): void;
  onTimer?(timestamp: number, ctx: KeyedProcessFunction.OnTimerContext<K>, out: Collector<O>): void;
  close?(): void;
}

// Type-only: lets users write KeyedProcessFunction.Context<K>, as in Flink.
export declare namespace KeyedProcessFunction {
  type Context<K> = KeyedContext<K>;
  type OnTimerContext<K> = import('./keyed-process-function.ts').OnTimerContext<K>;
}
