// Keyed state and timers through a KeyedProcessFunction, on both backends, on virtual time.
import test from 'ava';
import {
  AggregatingStateDescriptor, KeyedProcessFunction, ListStateDescriptor, MapStateDescriptor, OutputTag,
  ReducingStateDescriptor, Types, ValueStateDescriptor, WeirError,
} from '../../core/index.ts';
import type { Collector, KeyedContext, OnTimerContext } from '../../core/index.ts';
import { BACKENDS, KeyedHarness } from '../helpers/keyed-harness.ts';
import { serializerFor, ttlSerializer } from '../../core/state/serializers.ts';

type Ev = { k: string | number; v: number };
const byK = (e: Ev) => e.k;

class Everything extends KeyedProcessFunction<unknown, Ev, unknown> {
  count = new ValueStateDescriptor<number>('count', 0);
  list = new ListStateDescriptor<number>('list');
  map = new MapStateDescriptor<number, string>('map');
  sum = new ReducingStateDescriptor<number>('sum', (a, b) => a + b);
  avg = new AggregatingStateDescriptor<number, [number, number], number>('avg', {
    createAccumulator: () => [0, 0], add: (v, [s, n]) => [s + v, n + 1], getResult: ([s, n]) => s / n,
  });
  processElement(e: Ev, ctx: KeyedContext<unknown>, out: Collector<unknown>) {
    const count = ctx.state(this.count);
    count.update(count.value() + 1);
    ctx.state(this.list).add(e.v);
    ctx.state(this.map).put(e.v, `v${e.v}`);
    ctx.state(this.sum).add(e.v);
    ctx.state(this.avg).add(e.v);
    out.collect({
      key: ctx.currentKey, count: count.value(), list: ctx.state(this.list).get(), keys: [...ctx.state(this.map).keys()],
      sum: ctx.state(this.sum).get(), avg: ctx.state(this.avg).get(),
    });
  }
}

for (const backend of BACKENDS) {
  test(`${backend}: value, list, map, reducing and aggregating state are per key`, async (t) => {
    const h = await KeyedHarness.create(backend, new Everything(), byK);
    for (const [k, v] of [['a', 5], ['b', -1], ['a', 10], ['a', -3], ['b', 2]] as const) h.process({ k, v });
    t.deepEqual(h.output.at(-2), { key: 'a', count: 3, list: [5, 10, -3], keys: [-3, 5, 10], sum: 12, avg: 4 });
    t.deepEqual(h.output.at(-1), { key: 'b', count: 2, list: [-1, 2], keys: [-1, 2], sum: 1, avg: 0.5 });
    h.close();
  });

  test(`${backend}: MapState iterates in key byte order and clears`, async (t) => {
    const d = new MapStateDescriptor<unknown, number>('m');
    const seen: unknown[][] = [];
    const h = await KeyedHarness.create(backend, new (class extends KeyedProcessFunction<unknown, Ev, never> {
      processElement(e: Ev, ctx: KeyedContext<unknown>) {
        const m = ctx.state(d);
        if (e.v < 0) { m.remove(-e.v === 1 ? 'b' : 10); seen.push([...m.entries()]); return; }
        if (e.v === 0) { m.clear(); seen.push([m.isEmpty(), m.contains(3), m.get(3)]); return; }
        for (const k of [10, -2.5, 'b', 3, 'a', 0, -100, true, ['x', 1]]) m.put(k, e.v);
        seen.push([...m.keys()]);
      }
    })(), byK);
    h.process({ k: 1, v: 7 });
    t.deepEqual(seen[0], [true, -100, -2.5, 0, 3, 10, 'a', 'b', ['x', 1]], 'booleans, then numbers, then strings, then arrays');
    h.process({ k: 1, v: -1 });
    t.deepEqual(seen[1]!.map((e) => (e as unknown[])[0]), [true, -100, -2.5, 0, 3, 10, 'a', ['x', 1]]);
    h.process({ k: 2, v: 1 });
    h.process({ k: 1, v: 0 });
    t.deepEqual(seen[3], [true, false, undefined]);
    h.process({ k: 2, v: -2 });
    t.deepEqual(seen[4]!.length, 8, 'the other key kept its map');
    h.close();
  });

  test(`${backend}: TTL expires entries on processing time, refreshed by writes`, async (t) => {
    const d = new ValueStateDescriptor<number>('seen').enableTimeToLive(100);
    const h = await KeyedHarness.create(backend, new (class extends KeyedProcessFunction<unknown, Ev, unknown> {
      processElement(e: Ev, ctx: KeyedContext<unknown>, out: Collector<unknown>) {
        const s = ctx.state(d);
        out.collect(s.value() ?? null);
        if (e.v > 0) s.update(e.v);
      }
    })(), byK);
    h.process({ k: 'a', v: 1 });          // t=0: none, writes 1
    h.advanceTo(60);
    h.process({ k: 'a', v: 2 });          // t=60: reads 1, writes 2 (refreshes)
    h.advanceTo(150);
    h.process({ k: 'a', v: 0 });          // t=150: 2 was written at 60, alive until 160
    h.advanceTo(160);
    h.process({ k: 'a', v: 0 });          // t=160: expired, never returned
    t.deepEqual(h.output, [null, 1, 2, null]);
    h.close();
  });

  test(`${backend}: a declared value type with TTL is stored and read back, and still checked`, async (t) => {
    const d = new ValueStateDescriptor<number>('typed', 0, Types.INT32).enableTimeToLive(100);
    const h = await KeyedHarness.create(backend, new (class extends KeyedProcessFunction<unknown, Ev, unknown> {
      processElement(e: Ev, ctx: KeyedContext<unknown>, out: Collector<unknown>) {
        const s = ctx.state(d);
        out.collect(s.value());
        s.update(e.v === 3 ? 1.5 : s.value() + e.v);
      }
    })(), byK);
    h.process({ k: 'a', v: 1 });
    h.process({ k: 'a', v: 2 });
    h.flush();
    h.process({ k: 'a', v: 0 });
    h.advanceTo(500);
    h.process({ k: 'a', v: 0 });
    t.deepEqual(h.output, [0, 1, 3, 0], 'read back through the envelope, then expired');
    t.throws(() => { h.process({ k: 'a', v: 3 }); h.flush(); }, { message: /expected int32/ });
    h.close();
  });

  test(`${backend}: event-time timers fire in timestamp order, once per key and timestamp, with their key`, async (t) => {
    const d = new ValueStateDescriptor<number>('n', 0);
    const h = await KeyedHarness.create(backend, new (class extends KeyedProcessFunction<unknown, Ev, unknown> {
      processElement(e: Ev, ctx: KeyedContext<unknown>) {
        ctx.state(d).update(ctx.state(d).value() + 1);
        ctx.timerService().registerEventTimeTimer(e.v);
        ctx.timerService().registerEventTimeTimer(e.v);   // the same timer again: one firing
        if (e.v === 25) ctx.timerService().deleteEventTimeTimer(25);
      }
      override onTimer(ts: number, ctx: OnTimerContext<unknown>, out: Collector<unknown>) {
        out.collect([ts, ctx.currentKey, ctx.state(d).value(), ctx.timeDomain()]);
      }
    })(), byK);
    for (const [k, v] of [['a', 30], ['b', 10], ['a', 10], ['c', 25], ['b', 20]] as const) h.process({ k, v });
    h.watermark(15);
    t.deepEqual(h.output, [[10, 'b', 2, 'EVENT_TIME'], [10, 'a', 2, 'EVENT_TIME']]);
    h.watermark(Infinity);
    t.deepEqual(h.output.slice(2), [[20, 'b', 2, 'EVENT_TIME'], [30, 'a', 2, 'EVENT_TIME']], 'the deleted timer at 25 never fired');
    t.deepEqual(h.watermarks, [15, Infinity], 'watermarks are forwarded after the timers fire');
    h.close();
  });

  test(`${backend}: processing-time timers fire on virtual time, in order`, async (t) => {
    const h = await KeyedHarness.create(backend, new (class extends KeyedProcessFunction<unknown, Ev, unknown> {
      processElement(e: Ev, ctx: KeyedContext<unknown>) {
        ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + e.v);
      }
      override onTimer(ts: number, ctx: OnTimerContext<unknown>, out: Collector<unknown>) {
        out.collect([ts, ctx.currentKey, ctx.timeDomain()]);
        if (ts === 50) ctx.timerService().registerProcessingTimeTimer(70);
      }
    })(), byK);
    h.process({ k: 'x', v: 100 });
    h.process({ k: 'y', v: 50 });
    h.advanceTo(49);
    t.deepEqual(h.output, []);
    h.advanceTo(80);
    t.deepEqual(h.output, [[50, 'y', 'PROCESSING_TIME'], [70, 'y', 'PROCESSING_TIME']], 'a timer set while firing, already due, fires too');
    h.advanceTo(1000);
    t.deepEqual(h.output.at(-1), [100, 'x', 'PROCESSING_TIME']);
    h.close();
  });

  test(`${backend}: side outputs from a keyed function`, async (t) => {
    const tag = new OutputTag<number>('neg');
    const h = await KeyedHarness.create(backend, new (class extends KeyedProcessFunction<unknown, Ev, number> {
      processElement(e: Ev, ctx: KeyedContext<unknown>, out: Collector<number>) {
        if (e.v < 0) ctx.output(tag, e.v); else out.collect(e.v);
      }
    })(), byK);
    h.process({ k: 1, v: -1 });
    h.process({ k: 1, v: 2 });
    t.deepEqual(h.output, [2]);
    t.deepEqual(h.side.get('neg'), [-1]);
    h.close();
  });

  test(`${backend}: bad keys, wrong value types and conflicting descriptors name the operator and key`, async (t) => {
    const typed = new ValueStateDescriptor<number>('total', 0, Types.FLOAT64);
    const again = new ValueStateDescriptor<string>('total', '', Types.STRING);
    const h = await KeyedHarness.create(backend, new (class extends KeyedProcessFunction<unknown, { k: unknown; v: unknown }, never> {
      processElement(e: { k: unknown; v: unknown }, ctx: KeyedContext<unknown>) {
        if (e.v === 'twice') { ctx.state(typed); ctx.state(again); return; }
        ctx.state(typed).update(e.v as number);
      }
    })(), (e) => e.k);
    const badKey = t.throws(() => h.process({ k: undefined, v: 1 }), { instanceOf: WeirError });
    t.is(badKey!.uid, 'op');
    t.regex(badKey!.message, /undefined/);
    const badValue = t.throws(() => h.process({ k: 'user-7', v: 'lots' }), { instanceOf: WeirError });
    t.is(badValue!.uid, 'op');
    t.regex(badValue!.message, /state 'total'.*key "user-7"/);
    t.regex(badValue!.message, /float64/);
    const twice = t.throws(() => h.process({ k: 'u', v: 'twice' }), { instanceOf: WeirError });
    t.regex(twice!.message, /state 'total' is registered twice with different types: value<float64> and value<string>/);
    t.is(twice!.uid, 'op');
    h.close();
  });
}

test('the TTL envelope keeps the write time and the value in its declared codec', (t) => {
  const s = ttlSerializer(serializerFor(Types.INT32));
  const bytes = s.serialize([1234.5, -7]);
  t.is(bytes.byteLength, 12, '8 bytes of time, 4 of int32');
  t.deepEqual(s.deserialize(bytes), [1234.5, -7]);
  t.throws(() => s.serialize([0, 'x']), { message: /expected int32/ });
});

class TypedList extends KeyedProcessFunction<unknown, Ev, unknown> {
  list = new ListStateDescriptor<number>('typed-list', Types.INT32);
  processElement(e: Ev, ctx: KeyedContext<unknown>, out: Collector<unknown>) {
    ctx.state(this.list).add(e.v);
    out.collect([...ctx.state(this.list).get()]);
  }
}

for (const backend of BACKENDS) {
  test(`${backend}: a ListState with a declared element type is stored whole, as an array of that type`, async (t) => {
    const h = await KeyedHarness.create(backend, new TypedList(), byK);
    for (const v of [1, 2, 3]) h.process({ k: 'a', v });
    h.flush();
    t.deepEqual(h.output.at(-1), [1, 2, 3]);
    t.throws(() => h.process({ k: 'a', v: 1.5 }), { message: /int32/ });
    h.close();
  });
}
