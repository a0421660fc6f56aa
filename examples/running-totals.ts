// Running totals per user with keyed state: run it with `npx weir run examples/running-totals.ts --state-backend lmdb`.
import { defineJob, fileSink, KeyedProcessFunction, ValueStateDescriptor } from 'weir';
import type { Collector } from 'weir';

type Payment = { user: number; amount: number };

class RunningTotal extends KeyedProcessFunction<number, Payment, [number, number]> {
  total = new ValueStateDescriptor<number>('total', 0);
  processElement(p: Payment, ctx: KeyedProcessFunction.Context<number>, out: Collector<[number, number]>) {
    const state = ctx.state(this.total);
    const next = state.value() + p.amount;
    state.update(next);
    out.collect([ctx.currentKey, next]);
  }
}

export default defineJob((env) => {
  env.setParallelism(2);
  env.fromSequence(0, 999_999).uid('numbers')
    .map((n): Payment => ({ user: n % 1000, amount: n })).uid('payments')
    .keyBy((p) => p.user)
    .process(new RunningTotal()).uid('totals')
    .sinkTo(fileSink('out/totals', { existing: 'overwrite' })).uid('out');
});
