// The checkpoint benchmark's job: numbers -> {user, v} over 1M uniform keys -> keyBy -> running count in ValueState -> discard.
// ?n=<records>&domain=<keys>&failAt=<value> (failAt: the first attempt fails on that record, for the replay figure).
import { defineJob, KeyedProcessFunction, ProcessFunction, ValueStateDescriptor } from '../../core/index.ts';
import type { Collector, KeyedContext, ProcessContext } from '../../core/index.ts';
import { uniformKey } from '../state/keys.ts';

const query = new URL(import.meta.url).searchParams;
const n = Number(query.get('n'));
const domain = Number(query.get('domain'));
const failAt = Number(query.get('failAt') ?? -1);

interface Event { readonly user: number; readonly v: number }

class ToEvent extends ProcessFunction<number, Event> {
  processElement(v: number, ctx: ProcessContext, out: Collector<Event>) {
    if (v === failAt && ctx.runtime.attempt === 0) throw new Error(`injected failure at record ${v}`);
    out.collect({ user: uniformKey(v, domain, 0x5eed), v });
  }
}

class RunningCount extends KeyedProcessFunction<number, Event, never> {
  count = new ValueStateDescriptor<number>('count', 0);
  processElement(_: Event, ctx: KeyedContext<number>) {
    const s = ctx.state(this.count);
    s.update(s.value() + 1);
  }
}

export default defineJob((env) => {
  env.fromSequence(0, n - 1).uid('src')
    .process(new ToEvent()).uid('events')
    .keyBy((e) => e.user)
    .process(new RunningCount()).uid('count')
    .discard().uid('sink');
});
