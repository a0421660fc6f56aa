// A keyed count over `keys` distinct keys (one record each), whose source then idles until a marker file exists:
// the job holds its whole state while a savepoint is taken. ?n=<records>&hold=<path>
import { existsSync } from 'node:fs';
import { defineJob, KeyedProcessFunction, ValueStateDescriptor } from '../../core/index.ts';
import type { KeyedContext, SplitSource } from '../../core/index.ts';

const q = new URL(import.meta.url).searchParams;
const n = Number(q.get('n'));
const hold = q.get('hold')!;
// One split per subtask at parallelism 2: a reader that idles at its end holds its subtask there.
const SPLITS = 2;

interface Range { readonly from: number; readonly to: number; readonly next: number }

const ranges: SplitSource<number, Range> = {
  splits: () => Array.from({ length: SPLITS }, (_, k) => {
    const from = Math.floor((n * k) / SPLITS);
    return { from, to: Math.floor((n * (k + 1)) / SPLITS), next: from };
  }),
  reader(split) {
    let next = split.next;
    return {
      emitBatch(emit, max) {
        const stop = Math.min(split.to, next + max);
        for (; next < stop; next++) emit(next);
        // Read to its end: it idles (more to come, nothing now) until the marker says to finish.
        return next < split.to || !existsSync(hold);
      },
      position: () => ({ ...split, next }),
    };
  },
};

class Count extends KeyedProcessFunction<number, number, never> {
  count = new ValueStateDescriptor<number>('count', 0);
  processElement(_: number, ctx: KeyedContext<number>) {
    const s = ctx.state(this.count);
    s.update(s.value() + 1);
  }
}

export default defineJob((env) => {
  env.fromSource(ranges).uid('numbers').keyBy((v) => v).process(new Count()).uid('count').discard().uid('out');
});
