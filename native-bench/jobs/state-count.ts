// The keyed running count of state.bench.ts: sequence -> {user, v} -> keyBy(user) -> ValueState count -> discard.
// The URL's query picks the shape: ?n=<records>&keys=zipf|uniform|distinct&domain=<distinct keys>
//   zipf, uniform: number keys drawn from the record's sequence number over `domain` keys (Zipf s = 1.0);
//   distinct: `user-${v % domain}` string keys, as test/fixtures/jobs/keyed.ts mode=big.
import { defineJob, KeyedProcessFunction, ValueStateDescriptor } from '../../core/index.ts';
import type { KeyedContext } from '../../core/index.ts';
import { uniformKey, Zipf } from '../state/keys.ts';

const query = new URL(import.meta.url).searchParams;
const n = Number(query.get('n'));
const keys = query.get('keys');
const domain = Number(query.get('domain'));
const SEED = 0x5eed;

interface Event {
  readonly user: number | string;
  readonly v: number;
}

/** Counts records per key and emits nothing: the job's cost beyond moving records is the state. */
class RunningCount extends KeyedProcessFunction<number | string, Event, never> {
  count = new ValueStateDescriptor<number>('count', 0);
  processElement(_: Event, ctx: KeyedContext<number | string>) {
    const s = ctx.state(this.count);
    s.update(s.value() + 1);
  }
}

function drawKey(): (v: number) => number | string {
  if (keys === 'uniform') return (v) => uniformKey(v, domain, SEED);
  if (keys === 'distinct') return (v) => `user-${v % domain}`;
  // Built on first use, in the thread that draws: the coordinator and idle threads never pay for it.
  let zipf: Zipf | undefined;
  return (v) => (zipf ??= new Zipf(domain, 1.0, SEED)).rank(v);
}

export default defineJob((env) => {
  if (!(n > 0 && domain > 0)) throw new Error('state-count needs ?n=<records>&domain=<keys>');
  if (keys !== 'zipf' && keys !== 'uniform' && keys !== 'distinct') {
    throw new Error(`state-count: keys must be zipf, uniform or distinct, got ${keys}`);
  }
  const key = drawKey();
  env.fromSequence(0, n - 1).uid('src')
    .map((v): Event => ({ user: key(v), v })).uid('events')
    .keyBy((e) => e.user)
    .process(new RunningCount()).uid('count')
    .discard().uid('sink');
});
