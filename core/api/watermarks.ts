// WatermarkStrategy: how a stream's records get event timestamps, and how its watermarks are generated (Flink's names).
import { WeirError } from '../errors.ts';
import type { OperatorContext } from './operator.ts';

/** Where a WatermarkGenerator sends what it decides: a watermark, or that its input is idle (or active again). */
export interface WatermarkOutput {
  /** Everything at or before `watermark` (ms) has arrived. Watermarks only move forward: a lower one is ignored. */
  emitWatermark(watermark: number | Watermark): void;
  markIdle(): void;
  markActive(): void;
}

/** As Flink's Watermark: a timestamp (ms) that event time has reached. */
export class Watermark {
  readonly timestamp: number;
  constructor(timestamp: number) {
    this.timestamp = timestamp;
  }
}

/**
 * Decides watermarks from the events it sees (`onEvent`, punctuated) or on processing time
 * (`onPeriodicEmit`, every `autoWatermarkInterval` ms, 200 by default as in Flink).
 */
export interface WatermarkGenerator<T> {
  onEvent(event: T, eventTimestamp: number, output: WatermarkOutput): void;
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** The event time of a record (ms), given the timestamp it already carries (NaN: none). */
export type TimestampAssigner<T> = (element: T, recordTimestamp: number) => number;

export type WatermarkGeneratorSupplier<T> = (ctx: OperatorContext) => WatermarkGenerator<T>;

/** Watermarks that trail the largest timestamp seen by a fixed bound: events at most `bound` ms late are on time. */
export class BoundedOutOfOrdernessWatermarks<T> implements WatermarkGenerator<T> {
  private maxTimestamp = -Infinity;
  private readonly bound: number;
  constructor(bound: number) {
    this.bound = bound;
  }
  onEvent(_: T, ts: number): void {
    if (ts > this.maxTimestamp) this.maxTimestamp = ts;
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    // As Flink: the watermark is max - bound - 1, so an event exactly `bound` late is still on time.
    output.emitWatermark(this.maxTimestamp - this.bound - 1);
  }
}

/** Marks its output idle after `timeout` ms of processing time without events; the wrapped generator decides the rest. */
class WatermarksWithIdleness<T> implements WatermarkGenerator<T> {
  private readonly inner: WatermarkGenerator<T>;
  private readonly timeout: number;
  private readonly ctx: OperatorContext;
  private sawEvent = false;
  private inactiveSince = -1;
  private idle = false;

  constructor(inner: WatermarkGenerator<T>, timeout: number, ctx: OperatorContext) {
    this.inner = inner;
    this.timeout = timeout;
    this.ctx = ctx;
  }

  onEvent(event: T, ts: number, output: WatermarkOutput): void {
    this.sawEvent = true;
    if (this.idle) {
      this.idle = false;
      output.markActive();
    }
    this.inner.onEvent(event, ts, output);
  }

  onPeriodicEmit(output: WatermarkOutput): void {
    const now = this.ctx.clock.now();
    if (this.sawEvent) {
      this.sawEvent = false;
      this.inactiveSince = -1;
    } else if (this.inactiveSince < 0) {
      this.inactiveSince = now;
    }
    if (this.inactiveSince >= 0 && now - this.inactiveSince >= this.timeout) {
      if (!this.idle) {
        this.idle = true;
        output.markIdle();
      }
      return;
    }
    this.inner.onPeriodicEmit(output);
  }
}

export class WatermarkStrategy<T> {
  private readonly supplier: WatermarkGeneratorSupplier<T>;
  readonly timestampAssigner: TimestampAssigner<T> | undefined;
  /** ms of processing time without events after which the stream is idle; undefined: never. */
  readonly idleness: number | undefined;

  private constructor(supplier: WatermarkGeneratorSupplier<T>, assigner?: TimestampAssigner<T>, idleness?: number) {
    this.supplier = supplier;
    this.timestampAssigner = assigner;
    this.idleness = idleness;
  }

  /** Timestamps that never go down: the watermark is the largest timestamp seen (less 1 ms). */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessWatermarks<T>(0));
  }

  /** Events up to `maxOutOfOrderness` ms behind the largest timestamp seen are on time. */
  static forBoundedOutOfOrderness<T>(maxOutOfOrderness: number): WatermarkStrategy<T> {
    if (typeof maxOutOfOrderness !== 'number' || !Number.isFinite(maxOutOfOrderness) || maxOutOfOrderness < 0) {
      throw new WeirError(`forBoundedOutOfOrderness takes a duration >= 0 in ms, got ${String(maxOutOfOrderness)}`);
    }
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessWatermarks<T>(maxOutOfOrderness));
  }

  /** A generator of your own, made per subtask. */
  static forGenerator<T>(supplier: WatermarkGeneratorSupplier<T>): WatermarkStrategy<T> {
    if (typeof supplier !== 'function') throw new WeirError('forGenerator takes a function (ctx) => WatermarkGenerator');
    return new WatermarkStrategy<T>(supplier);
  }

  /** Timestamps without watermarks: event-time windows then fire only at the end of input. */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => ({ onEvent() {}, onPeriodicEmit() {} }));
  }

  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    if (typeof assigner !== 'function') throw new WeirError('withTimestampAssigner takes a function (element, recordTimestamp) => ms');
    return new WatermarkStrategy<T>(this.supplier, assigner, this.idleness);
  }

  withIdleness(timeout: number): WatermarkStrategy<T> {
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw new WeirError(`withIdleness takes a timeout > 0 in ms, got ${String(timeout)}`);
    }
    return new WatermarkStrategy<T>(this.supplier, this.timestampAssigner, timeout);
  }

  createWatermarkGenerator(ctx: OperatorContext): WatermarkGenerator<T> {
    const g = this.supplier(ctx);
    if (g === null || typeof g !== 'object' || typeof g.onEvent !== 'function' || typeof g.onPeriodicEmit !== 'function') {
      throw new WeirError('a watermark generator needs onEvent and onPeriodicEmit', { uid: ctx.uid, subtask: ctx.subtask });
    }
    return this.idleness === undefined ? g : new WatermarksWithIdleness(g, this.idleness, ctx);
  }
}
