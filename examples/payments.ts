// A demo job: payments are typed, split by size with a side output, keyed by user, and written as part files.
import { defineJob, fileSink, OutputTag, ProcessFunction, Types } from 'weir';
import type { Collector, ProcessContext } from 'weir';

type Payment = { user: number; amount: number; currency: string };
const large = new OutputTag<Payment>('large');

class FlagLarge extends ProcessFunction<Payment, Payment> {
  processElement(p: Payment, ctx: ProcessContext, out: Collector<Payment>) {
    if (p.amount >= 990) ctx.output(large, p);
    else out.collect(p);
  }
}

export default defineJob((env) => {
  env.setParallelism(2);
  const payments = env.fromSequence(0, 999_999).uid('numbers')
    .map((n): Payment => ({ user: n % 1000, amount: (n * 7919) % 1000, currency: n % 3 === 0 ? 'EUR' : 'USD' }))
    .returns(Types.ROW({ user: Types.INT32, amount: Types.FLOAT64, currency: Types.STRING })).uid('payments')
    .keyBy((p) => p.user)
    .process(new FlagLarge()).uid('flag');
  payments.filter((p) => p.currency === 'EUR').uid('eur').discard().uid('eur-sink');
  payments.getSideOutput(large).sinkTo(fileSink('out/large-payments', { existing: 'overwrite' })).uid('large-out');
});
