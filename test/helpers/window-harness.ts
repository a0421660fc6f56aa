// Runs a window operator (or an assigner) in-process on virtual time over a chosen backend, as a worker would.
import type { OutputTag } from '../../core/index.ts';
import { ManualClock } from '../../core/index.ts';
import type { KeyedStateBackend } from '../../core/index.ts';
import type { Output, RecordTime, StreamOperator } from '../../core/api/operator.ts';
import { windowOperator } from '../../actors/operators/window.ts';
import type { WindowSpec } from '../../actors/operators/window.ts';
import { makeBackend } from './keyed-harness.ts';
import type { BackendKind } from './keyed-harness.ts';

export interface Stamped<T> { readonly value: T; readonly ts: number }

export class WindowHarness<I, O> {
  readonly clock = new ManualClock(0);
  readonly time: RecordTime = { value: NaN };
  /** What the operator emitted, each with the timestamp it carried. */
  readonly output: Stamped<O>[] = [];
  readonly side = new Map<string, unknown[]>();
  readonly watermarks: number[] = [];
  readonly metrics: Record<string, number> = {};
  private readonly op: StreamOperator<unknown, unknown>;
  private readonly out: Output<unknown>;
  readonly backend: KeyedStateBackend;

  private constructor(spec: WindowSpec, keyBy: (v: I) => unknown, backend: KeyedStateBackend, restore?: unknown) {
    this.backend = backend;
    const ctx = {
      uid: 'win', name: 'win', subtask: 0, parallelism: 1, maxParallelism: 128, attempt: 0, runId: 'test', options: {}, clock: this.clock,
      recordTime: this.time,
      counter: (name: string) => { this.metrics[name] ??= 0; return { inc: (n = 1) => { this.metrics[name]! += n; } }; },
    };
    this.op = windowOperator(spec, keyBy as (v: unknown) => unknown, ctx, backend);
    this.out = {
      collect: (v) => { this.output.push({ value: v as O, ts: this.time.value }); },
      output: <S>(tag: OutputTag<S>, v: S) => { const l = this.side.get(tag.id) ?? []; l.push(v); this.side.set(tag.id, l); },
      emitWatermark: (ts) => { this.watermarks.push(ts); },
    };
    // As in a subtask: state comes back before open.
    if (restore !== undefined) this.op.initializeState!(restore);
    this.op.open?.(ctx, this.out);
  }

  static async create<I, O>(kind: BackendKind, spec: Partial<WindowSpec> & Pick<WindowSpec, 'assigner' | 'contents'>, keyBy: (v: I) => unknown,
    restore?: unknown) {
    const full: WindowSpec = { trigger: undefined, allowedLateness: 0, lateTag: undefined, ...spec };
    return new WindowHarness<I, O>(full, keyBy, await makeBackend(kind, 'win'), restore);
  }

  /** A record with event timestamp `ts` (NaN: none), as the gate hands it on. */
  process(v: I, ts: number): void {
    this.time.value = ts;
    this.op.processElement(v, this.out);
  }
  watermark(ts: number): void { this.op.processWatermark!(ts, this.out); }
  advanceTo(t: number): void {
    this.clock.set(t);
    if (this.op.nextProcessingTime!() <= t) this.op.onProcessingTime!(t, this.out);
  }
  snapshot(id: number): unknown { this.backend.flush(); return this.op.snapshotState!(id); }
  close(): void { this.op.close?.(); }
}
