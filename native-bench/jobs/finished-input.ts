// A keyed job whose sources finish long before its consumer: sequence -> keyBy -> a keyed count that busy-waits
// per record -> discard. Every record fits in the rings, so the sources end early while the count drains the tail.
// ?n=<records> &spinUs=<busy microseconds per record in the count>
import { defineJob, KeyedProcessFunction, ValueStateDescriptor } from '../../core/index.ts';
import type { Collector, KeyedContext } from '../../core/index.ts';

const q = new URL(import.meta.url).searchParams;
const n = Number(q.get('n') ?? 200_000);
const spinUs = Number(q.get('spinUs') ?? 25);

class SlowCount extends KeyedProcessFunction<number, number, number> {
  count = new ValueStateDescriptor<number>('count', 0);
  processElement(v: number, ctx: KeyedContext<number>, out: Collector<number>) {
    for (const end = performance.now() + spinUs / 1000; performance.now() < end;);
    const s = ctx.state(this.count);
    s.update(s.value() + 1);
    out.collect(v);
  }
}

export default defineJob((env) => {
  env.fromSequence(0, n - 1).uid('numbers')
    .keyBy((v) => v % 97)
    .process(new SlowCount()).uid('count')
    .discard().uid('sink');
});
