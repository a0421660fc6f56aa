// StreamExecutionEnvironment: job-level settings and the sources every stream starts from.
import { WeirError } from '../errors.ts';
import { StreamGraph } from '../graph/stream-graph.ts';
import { defaultOptions, validateOptions } from '../options.ts';
import type { JobOptions } from '../options.ts';
import { SingleOutputStreamOperator } from './datastream.ts';
import type { OperatorContext } from './operator.ts';
import { WatermarkStrategy } from './watermarks.ts';

/** A source of your own: emits up to `max` records per call and says whether more will come. */
export interface SourceOperator<T> {
  open?(ctx: OperatorContext): void;
  /** Emits at most `max` records through emit; returns false once the source is exhausted. */
  emitBatch(emit: (record: T) => void, max: number): boolean;
  /** At a checkpoint: the position to resume from, as plain data (structured-clonable). */
  snapshotState?(checkpointId: number): unknown;
  /** Before open, on a restore: the position snapshotState returned. */
  initializeState?(state: unknown): void;
  /** Before open, on a restore at another parallelism: every old subtask's position, to take this subtask's share (see StreamOperator). */
  initializeRescaledState?(parts: readonly import('./operator.ts').RestoredPart[]): void;
  notifyCheckpointComplete?(checkpointId: number): void;
  close?(): void;
}

export type SourceFactory<T> = (ctx: OperatorContext) => SourceOperator<T>;

/**
 * A source made of splits (Flink's FLIP-27 in small): `splits` lists the input's pieces, each
 * as plain data that says where reading starts, deterministically for a parallelism (every
 * thread enumerates them alike); split i goes to subtask i mod parallelism. A reader reads
 * one split and says, at any point between two batches, where it has got to, as a split
 * again. A checkpoint holds each subtask's splits at their positions: rescaling moves whole
 * splits, not subtasks' ranges.
 */
export interface SplitSource<T, S> {
  splits(parallelism: number): readonly S[];
  reader(split: S, ctx: OperatorContext): SplitReader<T, S>;
}

export interface SplitReader<T, S> {
  /** Emits at most `max` records; false once the split is exhausted. */
  emitBatch(emit: (record: T) => void, max: number): boolean;
  /** The split as read so far: where a restore starts it again. */
  position(): S;
  close?(): void;
}

export interface FileSourceOptions {
  /** 'lines' emits each line as a string; 'jsonl' parses each line as JSON. */
  format?: 'lines' | 'jsonl';
}

export class StreamExecutionEnvironment {
  readonly graph = new StreamGraph();
  private readonly settings: Partial<JobOptions> = {};
  private readonly overrides: Partial<JobOptions>;

  /** `overrides` (the CLI's or submit()'s options) win over what the job module sets. */
  constructor(overrides: Partial<JobOptions> = {}) {
    this.overrides = overrides;
  }

  setParallelism(p: number): this { return this.set({ parallelism: p }); }
  setMaxParallelism(p: number): this { return this.set({ maxParallelism: p }); }
  setStateBackend(backend: 'heap' | 'lmdb'): this { return this.set({ stateBackend: backend }); }

  enableCheckpointing(interval: number, opts: Partial<Pick<JobOptions, 'checkpointingMode' | 'unaligned' | 'alignedCheckpointTimeout' |
    'checkpointTimeout' | 'minPause' | 'tolerableFailedCheckpoints' | 'checkpointDir' | 'retainedCheckpoints'>> = {}): this {
    return this.set({ checkpointInterval: interval, ...opts });
  }

  /** Flink's RestartStrategies, by name: `setRestartStrategy('fixed-delay', { restartAttempts: 3, restartDelay: 10 })`. */
  setRestartStrategy(strategy: NonNullable<JobOptions['restartStrategy']>, opts: Partial<Pick<JobOptions, 'restartAttempts' |
    'restartDelay' | 'restartMaxDelay' | 'restartMultiplier' | 'restartResetAfter' | 'restartJitter'>> = {}): this {
    return this.set({ restartStrategy: strategy, ...opts });
  }

  /** Flink's ExecutionConfig.enableObjectReuse(): the objectReuse option (see JobOptions.objectReuse for what it asks of user functions). */
  enableObjectReuse(): this { return this.set({ objectReuse: true }); }

  /** Any job options by name, validated. */
  configure(options: Partial<JobOptions>): this { return this.set(options); }

  private set(options: Partial<JobOptions>): this {
    Object.assign(this.settings, validateOptions(options as Record<string, unknown>, 'job option'));
    return this;
  }

  /** Defaults, then the job module's settings, then the overrides. */
  resolvedOptions(): JobOptions {
    return { ...defaultOptions(), ...this.settings, ...this.overrides } as JobOptions;
  }

  getParallelism(): number {
    return this.resolvedOptions().parallelism;
  }

  /** The numbers from..to inclusive, split in contiguous ranges over the subtasks. */
  fromSequence(from: number, to: number): SingleOutputStreamOperator<number> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from) {
      throw new WeirError(`fromSequence needs safe integers from <= to, got ${from}, ${to}`);
    }
    return this.source('source:sequence', 'Sequence', { from, to });
  }

  /** The elements of an array, in order, from a single subtask. */
  fromCollection<T>(items: readonly T[]): SingleOutputStreamOperator<T> {
    if (!Array.isArray(items)) throw new WeirError('fromCollection takes an array');
    return this.source('source:collection', 'Collection', { items, fixedParallelism: 1 });
  }

  fromElements<T>(...items: T[]): SingleOutputStreamOperator<T> {
    return this.fromCollection(items);
  }

  /** A bounded file read by byte offset, one record per line, from a single subtask. */
  fromFile<T = string>(path: string, opts: FileSourceOptions = {}): SingleOutputStreamOperator<T> {
    if (typeof path !== 'string' || path === '') throw new WeirError('fromFile needs a path');
    const format = opts.format ?? 'lines';
    if (format !== 'lines' && format !== 'jsonl') throw new WeirError(`fromFile option 'format' must be lines or jsonl, got ${String(format)}`);
    return this.source('source:file', 'FileSource', { path, format, fixedParallelism: 1 });
  }

  readTextFile(path: string): SingleOutputStreamOperator<string> {
    return this.fromFile<string>(path);
  }

  /**
   * Your own source: a factory of a SourceOperator per subtask, or a SplitSource. As in
   * Flink, `fromSource(source, watermarkStrategy, name)` gives its records timestamps and
   * watermarks at once (an assigner chained to the source, per source subtask). A SplitSource
   * with a strategy gets per-split watermarks: each subtask reads its splits side by side, a
   * batch from each in turn, each split with its own generator, and its watermark is the
   * least over the splits not yet finished (Flink's split outputs, as a Kafka source's).
   */
  fromSource<T, S = unknown>(source: SourceFactory<T> | SplitSource<T, S>, strategyOrName?: WatermarkStrategy<T> | string, name?: string): SingleOutputStreamOperator<T> {
    const strategy = strategyOrName instanceof WatermarkStrategy ? strategyOrName : undefined;
    const sourceName = typeof strategyOrName === 'string' ? strategyOrName : name ?? 'Source';
    let stream: SingleOutputStreamOperator<T>;
    const splits = typeof source === 'object' && source !== null && typeof source.splits === 'function' && typeof source.reader === 'function';
    if (splits) {
      // With a strategy, a subtask reads its splits side by side, each with its own watermark generator.
      stream = this.source('source:splits', sourceName, { source, perSplit: strategy !== undefined });
    } else if (typeof source !== 'function') {
      throw new WeirError('fromSource takes a factory function (ctx) => SourceOperator, or a SplitSource { splits, reader }');
    } else {
      stream = this.source('source:custom', sourceName, { factory: source });
    }
    if (strategy === undefined) return stream;
    const assigned = stream.assignTimestampsAndWatermarks(strategy).asPartOfSource(stream.node);
    if (splits) assigned.node.params['perSplit'] = true;
    return assigned;
  }

  private source<T>(kind: string, name: string, params: Record<string, unknown>): SingleOutputStreamOperator<T> {
    return new SingleOutputStreamOperator<T>(this.graph, this.graph.add(kind, name, [], params));
  }
}
