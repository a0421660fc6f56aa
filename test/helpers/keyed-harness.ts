// Runs a KeyedProcessFunction in-process on virtual time over a chosen backend, as a worker would.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyedProcessFunction, OutputTag } from '../../core/index.ts';
import { HeapBackend, ManualClock, keyGroupRangeForOperator } from '../../core/index.ts';
import type { KeyedStateBackend } from '../../core/index.ts';
import { keyedProcessOperator } from '../../actors/operators/keyed-process.ts';
import type { Output } from '../../core/api/operator.ts';

export type BackendKind = 'heap' | 'lmdb';
export const BACKENDS: BackendKind[] = ['heap', 'lmdb'];

export async function makeBackend(kind: BackendKind, uid: string, opts: { maxParallelism?: number; cacheBytes?: number } = {}): Promise<KeyedStateBackend> {
  const maxParallelism = opts.maxParallelism ?? 128;
  const ctx = { uid, subtask: 0, maxParallelism, keyGroups: keyGroupRangeForOperator(maxParallelism, 1, 0) };
  if (kind === 'heap') return new HeapBackend(ctx);
  const { openLmdbBackend } = await import('../../core/state/lmdb-backend.ts');
  return openLmdbBackend(join(mkdtempSync(join(tmpdir(), 'weir-state-')), uid), ctx, { cacheBytes: opts.cacheBytes ?? 1 << 20 });
}

export class KeyedHarness<I, O> {
  readonly clock = new ManualClock(0);
  readonly output: O[] = [];
  readonly side = new Map<string, unknown[]>();
  readonly watermarks: number[] = [];
  private readonly op;
  private readonly out: Output<O>;
  private readonly backend: KeyedStateBackend;

  private constructor(fn: KeyedProcessFunction<unknown, I, O>, keyBy: (v: I) => unknown, backend: KeyedStateBackend) {
    this.backend = backend;
    const ctx = {
      uid: 'op', name: 'op', subtask: 0, parallelism: 1, maxParallelism: 128, attempt: 0, runId: 'test', options: {}, clock: this.clock,
    };
    this.op = keyedProcessOperator(fn as never, keyBy as never, ctx, backend);
    this.out = {
      collect: (v) => { this.output.push(v); },
      output: <S>(tag: OutputTag<S>, v: S) => { const l = this.side.get(tag.id) ?? []; l.push(v); this.side.set(tag.id, l); },
      emitWatermark: (ts) => { this.watermarks.push(ts); },
    };
    this.op.open?.(ctx, this.out as Output<unknown>);
  }

  static async create<I, O>(kind: BackendKind, fn: KeyedProcessFunction<unknown, I, O>, keyBy: (v: I) => unknown, opts = {}) {
    return new KeyedHarness<I, O>(fn, keyBy, await makeBackend(kind, 'op', opts));
  }

  process(v: I): void { this.op.processElement(v, this.out as Output<unknown>); }
  watermark(ts: number): void { this.op.processWatermark!(ts, this.out as Output<unknown>); }
  /** Moves virtual processing time and fires what is due, as the scheduler does. */
  advanceTo(t: number): void {
    this.clock.set(t);
    if (this.op.nextProcessingTime!() <= t) this.op.onProcessingTime!(t, this.out as Output<unknown>);
  }
  /** Writes pending state through (LMDB's write-back cache), as a checkpoint would. */
  flush(): void { this.backend.flush(); }
  close(): void { this.op.close?.(); }
}
