// Bounded sources: a number sequence split over subtasks, a collection, and a line / JSON-lines file read by byte offset.
import { closeSync, openSync, readSync } from 'node:fs';
import type { SourceOperator, SplitReader, SplitSource } from '../../core/api/environment.ts';
import type { OperatorContext, SourceSplit } from '../../core/api/operator.ts';
import { WeirError } from '../../core/errors.ts';
import { fresh, fusedLoop } from '../runtime/fresh.ts';
import type { FusableSource, FusedStep } from '../runtime/fresh.ts';

type EmitRange<T> = (emit: (r: T) => void, from: number, stop: number) => void;

/**
 * Calls a source's loop over its records (thousands per call) so that it is never inlined
 * into its caller by Maglev, V8's middle tier: a caller called once per batch reaches Maglev
 * long before TurboFan, Maglev inlines functions of up to 460 bytes of bytecode (a fused
 * loop is ~80), and Maglev code does not move to TurboFan in the middle of a loop
 * (--no-osr-from-maglev), so the loop ran at Maglev's level, the chain's calls not inlined,
 * until the caller was compiled again. On the typed keyed job that was most of each run
 * after its first 0.3 s. Reflect.apply is not inlined by Maglev; the loop is optimized on
 * its own by TurboFan (on-stack replacement), as before. Measured: 1.2x on a source > map >
 * keyBy job, 1.08x on the typed keyed job (BENCHMARKS.md, the source loop and Maglev).
 */
function callLoop<T>(loop: EmitRange<T>, emit: (r: T) => void, from: number, stop: number): void {
  Reflect.apply(loop, undefined, [emit, from, stop]);
}

/**
 * Subtask i of p gets the contiguous range [from + floor(n*i/p), from + floor(n*(i+1)/p)).
 * Its state is what is left of its ranges, `[next, end)` pairs: restored at another
 * parallelism, the old subtasks' ranges are dealt out like splits (range j to subtask j mod p').
 */
export function sequenceSource(from: number, to: number, ctx: OperatorContext): SourceOperator<number> & FusableSource {
  const n = to - from + 1;
  let ranges: [number, number][] = [[from + Math.floor((n * ctx.subtask) / ctx.parallelism), from + Math.floor((n * (ctx.subtask + 1)) / ctx.parallelism)]];
  const restore = (s: unknown): [number, number][] => {
    const st = s as { ranges?: [number, number][]; next?: number };
    // Checkpoints of earlier versions hold only `next`, with the subtask's own end.
    return st.ranges !== undefined ? st.ranges.map(([a, b]) => [a, b]) : [[st.next!, ranges[0]![1]]];
  };
  // The loop is compiled for this source (fresh): its emit call site sees this subtask's chain
  // only. A loop shared by every sequence source of the worker turned polymorphic at the second
  // job on warm slots and stopped inlining the chain: a chained map > filter > map ran 1.6x
  // slower in every job after a process's first.
  let emitRange = fresh<EmitRange<number>>([], 'return function emitRange(emit, from, stop) { for (let v = from; v < stop; v++) emit(v); };');
  return {
    // The loop with the chain's first operator compiled in, which then ignores emit.
    fuse(step: FusedStep) {
      emitRange = fusedLoop<EmitRange<number>>(step, { name: 'emitRange', params: ['emit', 'from', 'stop'], prologue: 'let v = from;', loop: 'for (; v < stop; v++)' });
    },
    emitBatch(emit, max) {
      while (ranges.length > 0 && ranges[0]![0] >= ranges[0]![1]) ranges.shift();
      const r = ranges[0];
      if (r === undefined) return false;
      const stop = Math.min(r[1], r[0] + max);
      callLoop(emitRange, emit, r[0], stop);
      r[0] = stop;
      return r[0] < r[1] || ranges.length > 1;
    },
    snapshotState: () => ({ ranges: ranges.filter(([a, b]) => a < b).map(([a, b]) => [a, b]) }),
    initializeState(s) { ranges = restore(s); },
    initializeRescaledState(parts) {
      const all = parts.flatMap((p) => (p.state as { ranges: [number, number][] }).ranges).filter(([a, b]) => a < b);
      ranges = all.filter((_, j) => j % ctx.parallelism === ctx.subtask).map(([a, b]) => [a, b]);
    },
  };
}

export function collectionSource(items: readonly unknown[]): SourceOperator<unknown> & FusableSource {
  let i = 0;
  let emitItems = fresh<EmitRange<unknown>>(['items'], 'return function emitItems(emit, from, stop) { for (let j = from; j < stop; j++) emit(items[j]); };', items);
  return {
    fuse(step: FusedStep) {
      emitItems = fusedLoop<EmitRange<unknown>>(step, {
        name: 'emitItems', params: ['emit', 'from', 'stop'], prologue: 'let j = from;', loop: 'for (; j < stop; j++)', perRecord: 'const v = items[j];',
      }, ['items'], [items]);
    },
    emitBatch(emit, max) {
      const stop = Math.min(items.length, i + max);
      callLoop(emitItems, emit, i, stop);
      i = stop;
      return i < items.length;
    },
    snapshotState: () => ({ i }),
    initializeState(s) { i = (s as { i: number }).i; },
  };
}

const CHUNK = 64 * 1024;

/**
 * Reads a file by byte offset: `offset` is always the start of the next unread line, so a
 * later checkpoint can record it and a restart can seek there.
 */
export function fileSource(path: string, format: 'lines' | 'jsonl', ctx: OperatorContext): SourceOperator<unknown> & { offset: number } {
  let fd = -1;
  let pending = Buffer.alloc(0);
  let line = 0;
  let eof = false;
  const state = {
    offset: 0,
    open() {
      try {
        fd = openSync(path, 'r');
      } catch (err) {
        throw new WeirError(`cannot open input file ${path}: ${(err as Error).message}`,
          { uid: ctx.uid, subtask: ctx.subtask, cause: err });
      }
    },
    emitBatch(emit: (r: unknown) => void, max: number): boolean {
      let emitted = 0;
      while (emitted < max) {
        const nl = pending.indexOf(10);
        if (nl < 0) {
          if (eof) {
            if (pending.length > 0) {
              const last = pending;
              pending = Buffer.alloc(0);
              emitLine(last, emit);
              // Past the last line too, so a position recorded after it does not emit it again.
              state.offset += last.length;
            }
            return false;
          }
          const chunk = Buffer.allocUnsafe(CHUNK);
          const n = readSync(fd, chunk, 0, CHUNK, state.offset + pending.length);
          if (n === 0) eof = true;
          pending = pending.length === 0 ? chunk.subarray(0, n) : Buffer.concat([pending, chunk.subarray(0, n)]);
          continue;
        }
        const text = pending.subarray(0, nl);
        pending = pending.subarray(nl + 1);
        if (emitLine(text, emit)) emitted++;
        state.offset += nl + 1;
      }
      return true;
    },
    // The byte offset is where to read on; the line number keeps error messages true after a restore.
    snapshotState: () => ({ offset: state.offset, line }),
    initializeState(s: unknown) {
      const p = s as { offset: number; line: number };
      state.offset = p.offset;
      line = p.line;
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
  function emitLine(bytes: Buffer, emit: (r: unknown) => void): boolean {
    line++;
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (format === 'lines') { emit(text); return true; }
    if (text.trim() === '') return false;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new WeirError(`malformed JSON line: ${(err as Error).message}`,
        { uid: ctx.uid, subtask: ctx.subtask, position: `${path}:${line}, byte offset ${state.offset}` });
    }
    emit(value);
    return true;
  }
  return state;
}

/**
 * Reads the splits a SplitSource assigns this subtask (i mod parallelism), one after the
 * other; or, with `perSplit` (a watermark strategy at the source), side by side: every
 * assigned split open at once, a batch from each in turn, the split's id in
 * `ctx.sourceSplit` while its records flow, so the chained assigner keeps a watermark per
 * split. Its state is the list of splits not yet finished, those being read at their
 * positions.
 */
export function splitSource<T, S>(source: SplitSource<T, S>, ctx: OperatorContext, perSplit = false): SourceOperator<T> {
  const assigned = source.splits(ctx.parallelism).filter((_, i) => i % ctx.parallelism === ctx.subtask);
  const register = perSplit ? ctx.sourceSplit : undefined;
  return register === undefined ? sequentialSplits(source, ctx, assigned) : sideBySide(source, ctx, assigned, register);
}

/** A split source's restore: its splits, or (rescaled) every old subtask's unfinished ones dealt out again, split j to subtask j mod parallelism. */
function restoresSplits<S>(ctx: OperatorContext, set: (splits: S[]) => void): Pick<SourceOperator<unknown>, 'initializeState' | 'initializeRescaledState'> {
  return {
    initializeState: (s) => set([...(s as { splits: S[] }).splits]),
    initializeRescaledState: (parts) => set(parts.flatMap((p) => (p.state as { splits: S[] }).splits).filter((_, j) => j % ctx.parallelism === ctx.subtask)),
  };
}

/** One split after another: the current one read to its end, then the next. */
function sequentialSplits<T, S>(source: SplitSource<T, S>, ctx: OperatorContext, assigned: S[]): SourceOperator<T> {
  let pending = assigned;
  let reader: SplitReader<T, S> | null = null;
  return {
    ...restoresSplits<S>(ctx, (splits) => { pending = splits; }),
    emitBatch(emit, max) {
      for (;;) {
        if (reader === null) {
          const next = pending[0];
          if (next === undefined) return false;
          reader = source.reader(next, ctx);
        }
        if (reader.emitBatch(emit, max)) return true;
        reader.close?.();
        reader = null;
        pending.shift();
        if (pending.length === 0) return false;
      }
    },
    snapshotState: () => ({ splits: reader === null ? [...pending] : [reader.position(), ...pending.slice(1)] }),
    close() {
      reader?.close?.();
    },
  };
}

/** Every split open at once, a batch from each in turn; `register` names the split being read and those ended. */
function sideBySide<T, S>(source: SplitSource<T, S>, ctx: OperatorContext, assigned: S[], register: SourceSplit): SourceOperator<T> {
  let pending = assigned;
  // The open readers, each with an id for its watermark; opened at the first batch, after any restore.
  let open: { id: number; reader: SplitReader<T, S> }[] | null = null;
  let ids = 0;
  let turn = 0;
  return {
    ...restoresSplits<S>(ctx, (splits) => { pending = splits; }),
    emitBatch(emit, max) {
      if (open === null) {
        open = pending.map((split) => ({ id: ids++, reader: source.reader(split, ctx) }));
        for (const r of open) register.opened.push(r.id);
      }
      if (open.length === 0) return false;
      if (turn >= open.length) turn = 0;
      const r = open[turn]!;
      register.current = r.id;
      let more: boolean;
      try {
        more = r.reader.emitBatch(emit, max);
      } finally {
        register.current = -1;
      }
      if (more) turn++;
      else {
        r.reader.close?.();
        open.splice(turn, 1);
        register.ended.push(r.id);
      }
      return open.length > 0;
    },
    snapshotState: () => ({ splits: open === null ? [...pending] : open.map((r) => r.reader.position()) }),
    close() {
      for (const r of open ?? []) r.reader.close?.();
    },
  };
}
