// A source that generates objects in the worker, then a filter that keeps 1%: pipeline.bench.ts's generator job.
// The URL's query gives the size: ?n=10000000 (records over all subtasks, each generating its share).
import { defineJob } from '../../core/index.ts';
import type { SourceOperator } from '../../core/index.ts';
import { generated, keepOnePercent } from '../pipeline/functions.ts';
import type { Rec } from '../pipeline/functions.ts';

const n = Number(new URL(import.meta.url).searchParams.get('n'));

export default defineJob((env) => {
  if (!(n > 0)) throw new Error('generate-filter needs ?n=<records>');
  env.fromSource((ctx): SourceOperator<Rec> => {
    // Subtask i of p generates records [n*i/p, n*(i+1)/p), with its position as state.
    let next = Math.floor((n * ctx.subtask) / ctx.parallelism);
    const end = Math.floor((n * (ctx.subtask + 1)) / ctx.parallelism);
    return {
      emitBatch(emit, max) {
        const stop = Math.min(end, next + max);
        for (; next < stop; next++) emit(generated(next));
        return next < end;
      },
      snapshotState: () => next,
      initializeState(s) { next = s as number; },
    };
  }).uid('generator')
    .filter(keepOnePercent).uid('kept')
    .discard().uid('sink');
});
