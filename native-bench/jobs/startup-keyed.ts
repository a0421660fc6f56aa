// The start-up job of startup.bench.ts as a user writes it: imports 'weir' (the built package
// unless --conditions=weir-source), 1000 records -> keyBy -> running count/sum -> discard.
import { defineJob, ProcessFunction } from 'weir';
import type { Collector, ProcessContext } from 'weir';
import { addTo, toRecord } from '../pipeline/functions.ts';
import type { Acc, Rec } from '../pipeline/functions.ts';

const n = Number(new URL(import.meta.url).searchParams.get('n') ?? 1000);

class RunningSum extends ProcessFunction<Rec, Acc> {
  private readonly state = new Map<number, Acc>();
  processElement(r: Rec, _ctx: ProcessContext, out: Collector<Acc>) {
    out.collect(addTo(this.state, r.key, r.value));
  }
}

export default defineJob((env) => {
  env.fromSequence(0, n - 1).uid('numbers')
    .map(toRecord).uid('records')
    .keyBy((r) => r.key)
    .process(new RunningSum()).uid('sum')
    .discard().uid('sink');
});
