// The async wait operator in-process: what its capacity counts.
import test from 'ava';
import { AsyncFunction, ManualClock } from '../../core/index.ts';
import type { ResultFuture } from '../../core/index.ts';
import type { Output } from '../../core/api/operator.ts';
import { asyncWaitOperator } from '../../actors/operators/async-wait.ts';

test('capacity counts requests taken and not emitted, completed ones too (as Flink\'s queue): a slow head blocks input', (t) => {
  const futures: ResultFuture<number>[] = [];
  class Hold extends AsyncFunction<number, number> {
    asyncInvoke(v: number, r: ResultFuture<number>) { if (v === 0) futures.push(r); else r.complete([v]); }
  }
  const ctx = { uid: 'async', name: 'async', subtask: 0, parallelism: 1, maxParallelism: 128, attempt: 0, runId: 't', options: {}, clock: new ManualClock(0) };
  const op = asyncWaitOperator({ fn: new Hold(), timeout: 60_000, capacity: 3, ordered: true }, ctx);
  const out: number[] = [];
  const o = { collect: (v: unknown) => out.push(v as number), output() {}, emitWatermark() {} } as unknown as Output<unknown>;
  op.open?.(ctx, o);
  let taken = 0;
  for (let v = 0; v < 10 && !op.isBlocked!(); v++, taken++) op.processElement(v, o);
  t.is(taken, 3, 'three taken: the first in flight, two completed behind it');
  op.onProcessingTime!(0, o);
  t.deepEqual(out, [], 'ordered: nothing passes the slow head');
  futures[0]!.complete([0]);
  op.onProcessingTime!(0, o);
  t.deepEqual(out, [0, 1, 2]);
  t.false(op.isBlocked!());
  op.close?.();
});
