// The operator SPI: what an actor's operator implements, and the context and output the runtime hands it.
import type { KeyedStateBackend, SnapshotTarget } from '../state/backend.ts';
import type { OperatorListState, Redistribution } from '../state/operator-state.ts';
import type { Clock } from '../time/clock.ts';

/** Names a side output; records sent to it travel on their own stream (getSideOutput). */
export class OutputTag<T = unknown> {
  readonly id: string;
  declare readonly __type?: T;
  constructor(id: string) {
    if (typeof id !== 'string' || id === '') throw new TypeError('an OutputTag needs a non-empty id');
    this.id = id;
  }
}

/**
 * The event timestamp of the record being processed, one per subtask and shared by the
 * operators of its chain (NaN: the record has none). What an operator emits carries it, as
 * Flink's TimestampedCollector does: out.collect keeps the input's timestamp. An operator
 * that stamps its output otherwise (a timer's, a window's) sets it before out.collect and
 * puts the old value back after, so the operators before it in the chain are not affected.
 */
export interface RecordTime {
  value: number;
}

/**
 * Which split of a split source the records now flowing came from, for per-split watermarks
 * (Flink's split outputs): the source pushes each split's id to `opened` when it opens it
 * (a split not read yet holds the watermark back), sets `current` before it reads a split's
 * batch, and pushes the id to `ended` when the split is read to its end; the source's
 * chained assigner reads all three. -1: no split (any other source).
 */
export interface SourceSplit {
  current: number;
  readonly opened: number[];
  readonly ended: number[];
}

export interface Collector<T> {
  collect(value: T): void;
}

/** Where an operator sends what it produces: its main output, side outputs, watermarks. */
export interface Output<T> extends Collector<T> {
  output<S>(tag: OutputTag<S>, value: S): void;
  emitWatermark(timestamp: number): void;
  /** Marks this output idle (no records or watermarks for a while) or active again: downstream leaves an idle input out of its watermark. */
  emitWatermarkStatus?(idle: boolean): void;
}

/** What the runtime tells an operator about where it runs. */
export interface OperatorContext {
  readonly uid: string;
  readonly name: string;
  readonly subtask: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly attempt: number;
  /** Names this run of the job (and the process that runs it) in the files it writes. */
  readonly runId: string;
  /** The resolved job options, as the coordinator shipped them. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Processing time; injected so that tests run on virtual time. */
  readonly clock: Clock;
  /** A counter of this operator subtask's, reported with its records in and out (the job result's operators). */
  readonly counter?: (name: string) => { inc(n?: number): void };
  /** Wakes the subtask's worker from another callback (a promise's): its next step then runs onProcessingTime if due. */
  readonly wake?: () => void;
  /** The timestamp of the record being processed (see RecordTime); absent outside a running subtask. */
  readonly recordTime?: RecordTime;
  /** The split a chained split source is reading (see SourceSplit); shared by the operators of one chain. */
  readonly sourceSplit?: SourceSplit;
  /**
   * Operator (non-keyed) state: a named list of this subtask's, checkpointed with the chain
   * and restored before open, redistributed on a rescale as `redistribution` says.
   */
  readonly operatorState?: <T>(name: string, redistribution?: Redistribution) => OperatorListState<T>;
  /** Keyed state of this operator; present only on keyed operators. */
  readonly keyedBackend?: () => KeyedStateBackend;
  /**
   * While checkpoint `id` is being taken: where this operator may write files of its own
   * beside its subtask's state (undefined otherwise, and for final states).
   */
  readonly snapshotTarget?: (checkpointId: number) => SnapshotTarget | undefined;
  /** Whether checkpoint `id` is a savepoint: keyed state then goes in the canonical form, independent of the backend. */
  readonly isSavepoint?: (checkpointId: number) => boolean;
}

/** One old subtask's snapshot of an operator, handed over for a restore at another parallelism. */
export interface RestoredPart {
  /** The old subtask's index, and the parallelism the operator ran at then. */
  readonly subtask: number;
  readonly parallelism: number;
  /** What its snapshotState returned. */
  readonly state: unknown;
}

/**
 * The library API for actors. One instance per subtask; every call comes from the one
 * thread that hosts it, one at a time, so no locks are needed.
 */
export interface StreamOperator<IN, OUT> {
  open?(ctx: OperatorContext, out: Output<OUT>): void;
  processElement(value: IN, out: Output<OUT>): void;
  /** A two-input operator's second input (connect): its records come here, the first input's to processElement. */
  processElement2?(value: unknown, out: Output<OUT>): void;
  /** Called when the operator's input watermark advances; the default forwards it. */
  processWatermark?(timestamp: number, out: Output<OUT>): void;
  /** Called when the input's watermark status changes (every input idle, or one active again); the default forwards it. */
  processWatermarkStatus?(idle: boolean, out: Output<OUT>): void;
  /**
   * At checkpoint `id`, between two calls of processElement: this operator's state as plain
   * data (structured-clonable), taken before the barrier goes downstream.
   */
  snapshotState?(checkpointId: number): unknown;
  /** The keyed state this operator has registered (name and signature), for the checkpoint metadata. */
  stateDescriptors?(): readonly { readonly name: string; readonly signature: string }[];
  /** Before open, on a restore: what snapshotState returned in the checkpoint restored. */
  initializeState?(state: unknown): void;
  /**
   * Before open, on a restore at another parallelism: every old subtask's snapshot, in
   * subtask order, to take this subtask's share from (keyed operators take their key
   * groups). An operator with a snapshot of its own and without this method cannot be
   * rescaled: such a restore is refused, naming its uid. (Operator state lists are
   * redistributed by the runtime, by their declared rule.)
   */
  initializeRescaledState?(parts: readonly RestoredPart[]): void;
  /** Checkpoint `id` is complete (and so is every older one): commit what it covers. */
  notifyCheckpointComplete?(checkpointId: number): void;
  /** Checkpoint `id` was given up (timeout, decline): what it prepared is committed by the next one. */
  notifyCheckpointAborted?(checkpointId: number): void;
  /** Processing time reached `now`: fire what is due. Called only while nextProcessingTime() <= now. */
  onProcessingTime?(now: number, out: Output<OUT>): void;
  /** The earliest processing time this operator waits for, or Infinity: the scheduler wakes for it. */
  nextProcessingTime?(): number;
  /**
   * After the end of input, with checkpointing on: true while the operator holds output that
   * only a checkpoint can commit. The subtask then stays until a final checkpoint completes.
   */
  awaitsFinalCheckpoint?(): boolean;
  /** True while the operator can take no more input (async requests at capacity): the subtask then reads none. */
  isBlocked?(): boolean;
  /** After the end of input: true while output is still to come (async requests in flight); finish waits for it. */
  hasPendingOutput?(): boolean;
  /** End of input: flush what is buffered through `out`. */
  finish?(out: Output<OUT>): void;
  close?(): void;
}

/** Builds one operator instance per subtask, in the worker that hosts it. */
export type OperatorFactory<IN, OUT> = (ctx: OperatorContext) => StreamOperator<IN, OUT>;
