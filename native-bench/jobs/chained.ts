// The stateless pipeline of pipeline.bench.ts as a weir job at parallelism 1: sequence -> map -> filter -> map -> discard, all chained.
// The URL's query gives the size: ?n=10000000.
import { defineJob } from '../../core/index.ts';
import { keepEven, scaled, toRecord } from '../pipeline/functions.ts';

const n = Number(new URL(import.meta.url).searchParams.get('n'));

export default defineJob((env) => {
  if (!(n > 0)) throw new Error('chained needs ?n=<records>');
  env.setParallelism(1);
  env.fromSequence(0, n - 1).uid('numbers')
    .map(toRecord).uid('records')
    .filter(keepEven).uid('even')
    .map(scaled).uid('scaled')
    .discard().uid('sink');
});
