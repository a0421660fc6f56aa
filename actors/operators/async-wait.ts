// The async wait operator: requests in flight up to a capacity, results emitted in order or as they complete, in-flight inputs checkpointed.
import { AsyncFunction } from '../../core/api/async.ts';
import type { AsyncCall, ResultFuture } from '../../core/api/async.ts';
import type { OperatorContext, Output, StreamOperator } from '../../core/api/operator.ts';
import { WeirError } from '../../core/errors.ts';

interface Entry {
  readonly watermark?: number;
  readonly input?: unknown;
  readonly timestamp: number;
  /** The input's place in this subtask's input, for error messages. */
  readonly index: number;
  done: boolean;
  results?: unknown[];
  error?: unknown;
  timer?: ReturnType<typeof setTimeout>;
}

interface Snapshot { readonly inputs: [unknown, number][] }

/**
 * As Flink's AsyncWaitOperator. Results are taken in by the promise callbacks (which only
 * record them and ring the worker's doorbell) and emitted inside the subtask's step, through
 * the processing-time hook: output never leaves between two records of a frame or past a
 * barrier. A checkpoint holds the inputs whose results are not emitted yet; a restore issues
 * them again. At capacity (requests taken and not emitted, in flight or completed, as Flink's
 * queue counts them) the subtask takes no input (isBlocked), and at the end of input it
 * waits for every request before finishing (hasPendingOutput).
 */
export function asyncWaitOperator(params: { fn: AsyncFunction<unknown, unknown> | AsyncCall<unknown, unknown>; timeout: number; capacity: number; ordered: boolean },
  ctx: OperatorContext): StreamOperator<unknown, unknown> {
  const { fn, timeout, capacity, ordered } = params;
  const time = ctx.recordTime ?? { value: NaN };
  const wake = ctx.wake ?? (() => {});
  const queue: Entry[] = [];
  /** Requests taken and not emitted yet (in flight or completed): what the capacity bounds, as Flink's queue. */
  let queued = 0;
  let seen = 0;
  let completed = 0;
  let restored: [unknown, number][] = [];

  const fail = (e: Entry, what: string, err: unknown): never => {
    throw new WeirError(`async request ${what}: ${(err as Error)?.message ?? String(err)}`,
      { uid: ctx.uid, subtask: ctx.subtask, position: `input record ${e.index}`, cause: err });
  };
  const settle = (e: Entry, results: Iterable<unknown> | undefined, error?: unknown) => {
    if (e.done) return;
    e.done = true;
    clearTimeout(e.timer);
    completed++;
    if (error !== undefined) e.error = error;
    else {
      try {
        e.results = [...results!];
      } catch (err) {
        e.error = new Error(`its results are not iterable (${(err as Error).message})`);
      }
    }
    wake();
  };
  const issue = (input: unknown, timestamp: number) => {
    const e: Entry = { input, timestamp, index: seen++, done: false };
    queue.push(e);
    queued++;
    const future: ResultFuture<unknown> = {
      complete: (results) => settle(e, results),
      completeExceptionally: (err) => settle(e, undefined, err ?? new Error('completed exceptionally')),
    };
    e.timer = setTimeout(() => {
      if (e.done) return;
      if (fn instanceof AsyncFunction && fn.timeout !== undefined) {
        try { fn.timeout(input, future); } catch (err) { settle(e, undefined, err); }
        if (!e.done) settle(e, undefined, new Error(`timeout() did not complete the request`));
      } else {
        settle(e, undefined, new Error(`timed out after ${timeout} ms`));
      }
    }, timeout);
    try {
      if (fn instanceof AsyncFunction) fn.asyncInvoke(input, future);
      else (fn as AsyncCall<unknown, unknown>)(input).then((r) => settle(e, r), (err) => settle(e, undefined, err ?? new Error('rejected')));
    } catch (err) {
      settle(e, undefined, err);
    }
  };

  const emitEntry = (e: Entry, out: Output<unknown>) => {
    if (e.watermark !== undefined) {
      out.emitWatermark(e.watermark);
      return;
    }
    queued--;
    if (e.error !== undefined) fail(e, 'failed', e.error);
    const carried = time.value;
    time.value = e.timestamp;
    try {
      for (const r of e.results!) out.collect(r);
    } finally {
      time.value = carried;
    }
  };

  /** Emits what may go now: ordered, the completed head; unordered, completed entries before the first watermark still waiting. */
  const drain = (out: Output<unknown>) => {
    if (ordered) {
      while (queue.length > 0 && (queue[0]!.watermark !== undefined || queue[0]!.done)) emitEntry(queue.shift()!, out);
      return;
    }
    for (;;) {
      let i = 0;
      let emitted = false;
      while (i < queue.length && queue[i]!.watermark === undefined) {
        if (queue[i]!.done) { emitEntry(queue.splice(i, 1)[0]!, out); emitted = true; } else i++;
      }
      if (i === 0 && queue.length > 0) { emitEntry(queue.shift()!, out); continue; }
      if (!emitted) return;
    }
  };
  let ready = 0;

  return {
    open() {
      if (fn instanceof AsyncFunction) fn.open?.(ctx);
      // Restored requests go out again first, in their order.
      for (const [input, ts] of restored) issue(input, ts);
      restored = [];
    },
    processElement(v) {
      issue(v, time.value);
    },
    processWatermark(ts, out) {
      queue.push({ watermark: ts, timestamp: NaN, index: -1, done: true });
      drain(out);
    },
    isBlocked: () => queued >= capacity,
    hasPendingOutput: () => queue.length > 0,
    nextProcessingTime: () => (completed > ready ? -Infinity : Infinity),
    onProcessingTime(_, out) {
      ready = completed;
      drain(out);
    },
    snapshotState: (): Snapshot => ({ inputs: queue.filter((e) => e.watermark === undefined).map((e) => [e.input, e.timestamp]) }),
    initializeState(s) { restored = (s as Snapshot).inputs; },
    // Each in-flight input goes to one new subtask: dealt round the new parallelism, in the old order.
    initializeRescaledState(parts) {
      restored = parts.flatMap((p) => (p.state as Snapshot).inputs).filter((_, i) => i % ctx.parallelism === ctx.subtask);
    },
    close() {
      for (const e of queue) clearTimeout(e.timer);
      if (fn instanceof AsyncFunction) fn.close?.();
    },
  };
}
