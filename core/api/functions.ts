// User function types and ProcessFunction, the lowest level of the DataStream API.
import type { Collector, OperatorContext, OutputTag } from './operator.ts';

export type MapFunction<I, O> = (value: I) => O;
export type FilterFunction<I> = (value: I) => boolean;
/** Emits through `out`, or returns what it emits (an array or any other iterable), as JavaScript habit has it. */
export type FlatMapFunction<I, O> = (value: I, out: Collector<O>) => Iterable<O> | void;
export type KeySelector<I, K> = (value: I) => K;
export type ReduceFunction<T> = (a: T, b: T) => T;

export interface ProcessContext {
  output<S>(tag: OutputTag<S>, value: S): void;
  /** The current watermark of this operator's input. */
  currentWatermark(): number;
  /** The event timestamp of the record being processed, or null when it has none. */
  timestamp(): number | null;
  readonly runtime: OperatorContext;
}

/** Per-record processing with side outputs; subclass it and override processElement. */
export abstract class ProcessFunction<I, O> {
  open?(ctx: OperatorContext): void;
  abstract processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
  close?(): void;
}
