// The keyed pipeline of pipeline.bench.ts as a weir job: sequence -> map to a record -> keyBy -> running count/sum -> discard.
// The URL's query picks the size and record form: ?n=5000000&records=objects|pairs (pairs: typed, schema codec).
import { defineJob, ProcessFunction, Types } from '../../core/index.ts';
import type { Collector, ProcessContext } from '../../core/index.ts';
import { addTo, toPair, toRecord } from '../pipeline/functions.ts';
import type { Acc, Pair, Rec } from '../pipeline/functions.ts';

const query = new URL(import.meta.url).searchParams;
const n = Number(query.get('n'));
const records = query.get('records');

// Keyed state is not built yet: the state lives in the function instance, one per subtask.
class RunningSum extends ProcessFunction<Rec, Acc> {
  private readonly state = new Map<number, Acc>();
  processElement(r: Rec, _ctx: ProcessContext, out: Collector<Acc>) {
    out.collect(addTo(this.state, r.key, r.value));
  }
}

class RunningSumOfPairs extends ProcessFunction<Pair, Acc> {
  private readonly state = new Map<number, Acc>();
  processElement(r: Pair, _ctx: ProcessContext, out: Collector<Acc>) {
    out.collect(addTo(this.state, r[0], r[1]));
  }
}

export default defineJob((env) => {
  if (!(n > 0)) throw new Error('keyed-count needs ?n=<records>');
  const numbers = env.fromSequence(0, n - 1).uid('numbers');
  if (records === 'objects') {
    numbers.map(toRecord).uid('records')
      .keyBy((r) => r.key)
      .process(new RunningSum()).uid('sum')
      .discard().uid('sink');
  } else if (records === 'pairs') {
    numbers.map(toPair).returns(Types.TUPLE(Types.INT32, Types.FLOAT64)).uid('records')
      .keyBy((r) => r[0])
      .process(new RunningSumOfPairs()).uid('sum')
      .discard().uid('sink');
  } else {
    throw new Error(`keyed-count: records must be objects or pairs, got ${records}`);
  }
});
