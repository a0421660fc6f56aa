// The window operator on virtual time against brute-force oracles: out-of-order input, lateness, merging sessions, triggers, restore.
import test from 'ava';
import fc from 'fast-check';
import {
  ContinuousEventTimeTrigger, CountTrigger, EventTimeSessionWindows, Trigger, GlobalWindows, OutputTag, ProcessWindowFunction, PurgingTrigger, SlidingEventTimeWindows,
  TimeWindow, TumblingEventTimeWindows, TumblingProcessingTimeWindows, WeirError,
} from '../../core/index.ts';
import type { Collector, ProcessWindowContext, TriggerResult, Window, WindowAssigner } from '../../core/index.ts';
import type { WindowContents } from '../../actors/operators/window.ts';
import { BACKENDS } from '../helpers/keyed-harness.ts';
import { WindowHarness } from '../helpers/window-harness.ts';
import { fixedWindowsOracle, wid } from '../helpers/window-oracle.ts';
import type { Item as AnyItem } from '../helpers/window-oracle.ts';

type Ev = { k: number; ts: number; n: number };
type Item = AnyItem<Ev>;
type Sum = { k: number; start: number; end: number; sum: number; count: number };

/** Emits key, window and the sum of n: the window function every oracle below is compared with. */
class Describe extends ProcessWindowFunction<{ sum: number; count: number }, Sum, number, Window> {
  process(k: number, ctx: ProcessWindowContext<Window>, aggs: Iterable<{ sum: number; count: number }>, out: Collector<Sum>) {
    for (const a of aggs) out.collect({ k, start: ctx.window.start, end: ctx.window.end, ...a });
  }
}
const sumAgg = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (e: Ev, a: { sum: number; count: number }) => ({ sum: a.sum + e.n, count: a.count + 1 }),
  getResult: (a: { sum: number; count: number }) => a,
  merge: (a: { sum: number; count: number }, b: { sum: number; count: number }) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
};
const aggregateContents: WindowContents = { kind: 'aggregate', aggregate: sumAgg as never, windowFn: new Describe() as never };


function resultsOf(h: WindowHarness<Ev, Sum>) {
  const results = new Map<string, string[]>();
  for (const { value: r, ts } of h.output) {
    if (ts !== r.end - 1) throw new Error(`result of [${r.start}, ${r.end}) carries timestamp ${ts}, not the window's end - 1`);
    const id = wid(r.k, r.start, r.end);
    results.set(id, [...(results.get(id) ?? []), `${r.sum}/${r.count}`]);
  }
  return results;
}

/** Events with out-of-order timestamps, and watermarks between them that move forward (or not) as they like. */
const streams = fc.array(fc.oneof(
  { weight: 4, arbitrary: fc.record({ e: fc.record({ k: fc.integer({ min: 0, max: 2 }), ts: fc.integer({ min: 0, max: 400 }), n: fc.integer({ min: 1, max: 9 }) }) }) },
  { weight: 1, arbitrary: fc.record({ w: fc.integer({ min: -10, max: 420 }) }) },
), { maxLength: 60 });

const sortedMap = (m: Map<string, string[]>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

async function runItems(h: WindowHarness<Ev, Sum>, items: Item[]) {
  for (const it of items) {
    if ('w' in it) h.watermark(it.w);
    else h.process(it.e, it.e.ts);
  }
  h.watermark(Infinity);
}

for (const backend of BACKENDS) {
  for (const lateness of [0, 35]) {
    test(`${backend}: tumbling windows, out of order, lateness ${lateness}: every firing and every late record as the oracle says`, async (t) => {
      const late = new OutputTag<Ev>('late');
      await fc.assert(fc.asyncProperty(streams, async (items) => {
        const h = await WindowHarness.create<Ev, Sum>(backend, {
          assigner: TumblingEventTimeWindows.of(50) as WindowAssigner<unknown, Window>, contents: aggregateContents, allowedLateness: lateness,
          lateTag: late as OutputTag<unknown>,
        }, (e) => e.k);
        await runItems(h, items);
        const want = fixedWindowsOracle(items, (ts) => { const s = ts - (ts % 50); return [[s, s + 50]]; }, lateness);
        t.deepEqual(sortedMap(resultsOf(h)), sortedMap(want.results));
        t.deepEqual(h.side.get('late') ?? [], want.late);
        h.close();
      }), { numRuns: backend === 'heap' ? 150 : 25 });
    });
  }

  test(`${backend}: sliding windows (size 60, slide 20), out of order, lateness 25, against the oracle`, async (t) => {
    await fc.assert(fc.asyncProperty(streams, async (items) => {
      const h = await WindowHarness.create<Ev, Sum>(backend, {
        assigner: SlidingEventTimeWindows.of(60, 20) as WindowAssigner<unknown, Window>, contents: aggregateContents, allowedLateness: 25,
      }, (e) => e.k);
      await runItems(h, items);
      const want = fixedWindowsOracle(items, (ts) => {
        const out: [number, number][] = [];
        for (let s = ts - (ts % 20); s > ts - 60; s -= 20) out.push([s, s + 60]);
        return out;
      }, 25);
      t.deepEqual(sortedMap(resultsOf(h)), sortedMap(want.results));
      t.is(h.metrics['numLateRecordsDropped'], want.late.length, 'late records without a side output are dropped and counted');
      h.close();
    }), { numRuns: backend === 'heap' ? 120 : 20 });
  });

  test(`${backend}: session windows merge across out-of-order arrivals into the sessions the gaps make`, async (t) => {
    const GAP = 30;
    const events = fc.array(fc.record({ k: fc.integer({ min: 0, max: 2 }), ts: fc.integer({ min: 0, max: 500 }), n: fc.integer({ min: 1, max: 9 }) }), { maxLength: 50 });
    await fc.assert(fc.asyncProperty(events, fc.array(fc.nat(), { maxLength: 10 }), async (evs, marks) => {
      const h = await WindowHarness.create<Ev, Sum>(backend, {
        assigner: EventTimeSessionWindows.withGap(GAP) as WindowAssigner<unknown, Window>, contents: aggregateContents,
      }, (e) => e.k);
      // Watermarks never pass a later event's reach: no element is late, so the sessions are exactly the gap clusters.
      const at = new Set(marks.map((m) => m % (evs.length + 1)));
      evs.forEach((e, i) => {
        if (at.has(i)) h.watermark(Math.min(...evs.slice(i).map((x) => x.ts)) - GAP - 1);
        h.process(e, e.ts);
      });
      h.watermark(Infinity);
      const want = new Map<string, string[]>();
      for (const k of new Set(evs.map((e) => e.k))) {
        const mine = evs.filter((e) => e.k === k).sort((a, b) => a.ts - b.ts);
        let cur: { s: number; e: number; sum: number; count: number } | null = null;
        const close = () => { if (cur !== null) want.set(wid(k, cur.s, cur.e), [`${cur.sum}/${cur.count}`]); };
        for (const e of mine) {
          if (cur !== null && e.ts <= cur.e) { cur.e = Math.max(cur.e, e.ts + GAP); cur.sum += e.n; cur.count++; }
          else { close(); cur = { s: e.ts, e: e.ts + GAP, sum: e.n, count: 1 }; }
        }
        close();
      }
      t.deepEqual(sortedMap(resultsOf(h)), sortedMap(want));
      h.close();
    }), { numRuns: backend === 'heap' ? 150 : 25 });
  });
}

test('a late record within allowed lateness fires its window again with the updated result; beyond it goes to the side output', async (t) => {
  const late = new OutputTag<Ev>('late');
  const h = await WindowHarness.create<Ev, Sum>('heap', {
    assigner: TumblingEventTimeWindows.of(100) as WindowAssigner<unknown, Window>, contents: aggregateContents, allowedLateness: 50,
    lateTag: late as OutputTag<unknown>,
  }, (e) => e.k);
  h.process({ k: 1, ts: 10, n: 1 }, 10);
  h.process({ k: 1, ts: 90, n: 2 }, 90);
  h.watermark(120);
  t.deepEqual(h.output.map((o) => o.value.sum), [3], 'fired once when the watermark passed 99');
  h.process({ k: 1, ts: 50, n: 4 }, 50);
  t.deepEqual(h.output.map((o) => o.value.sum), [3, 7], 'a late record within the lateness: fired again, updated');
  h.watermark(149);
  h.process({ k: 1, ts: 60, n: 8 }, 60);
  t.deepEqual(h.output.map((o) => o.value.sum), [3, 7], 'at 149 = 99 + 50 the window is gone');
  t.deepEqual(h.side.get('late'), [{ k: 1, ts: 60, n: 8 }]);
  t.deepEqual(h.output.map((o) => o.ts), [99, 99], 'results carry the window\'s largest timestamp');
});

test('process windows see every element of the window; GlobalWindows with a purging count trigger fire every n', async (t) => {
  class Collect extends ProcessWindowFunction<Ev, string, number, Window> {
    process(k: number, ctx: ProcessWindowContext<Window>, els: Iterable<Ev>, out: Collector<string>) {
      out.collect(`${k}[${ctx.window.start},${ctx.window.end}):${[...els].map((e) => e.n).join(',')}`);
    }
  }
  const h = await WindowHarness.create<Ev, string>('lmdb', {
    assigner: TumblingEventTimeWindows.of(10) as WindowAssigner<unknown, Window>, contents: { kind: 'process', windowFn: new Collect() as never },
  }, (e) => e.k);
  for (const [ts, n] of [[3, 1], [1, 2], [12, 3], [5, 4]] as const) h.process({ k: 0, ts, n }, ts);
  h.watermark(Infinity);
  t.deepEqual(h.output.map((o) => o.value), ['0[0,10):1,2,4', '0[10,20):3']);

  const g = await WindowHarness.create<Ev, Sum>('heap', {
    assigner: GlobalWindows.create() as WindowAssigner<unknown, Window>, trigger: PurgingTrigger.of(CountTrigger.of(3)) as never,
    contents: { kind: 'reduce', reduce: ((a: Ev, b: Ev) => ({ ...a, n: a.n + b.n })) as never },
  }, (e) => e.k);
  for (let i = 1; i <= 8; i++) g.process({ k: i % 2, ts: NaN, n: i }, NaN);
  t.deepEqual(g.output.map((o) => (o.value as unknown as Ev).n), [1 + 3 + 5, 2 + 4 + 6]);
});

test('processing-time tumbling windows fire on the clock', async (t) => {
  const h = await WindowHarness.create<Ev, Sum>('heap', {
    assigner: TumblingProcessingTimeWindows.of(1000) as WindowAssigner<unknown, Window>, contents: aggregateContents,
  }, (e) => e.k);
  h.advanceTo(100);
  h.process({ k: 0, ts: NaN, n: 1 }, NaN);
  h.advanceTo(900);
  h.process({ k: 0, ts: NaN, n: 2 }, NaN);
  t.is(h.output.length, 0);
  h.advanceTo(1000);
  h.process({ k: 0, ts: NaN, n: 4 }, NaN);
  t.deepEqual(h.output.map((o) => [o.value.start, o.value.sum]), [[0, 3]]);
  h.advanceTo(2000);
  t.deepEqual(h.output.map((o) => [o.value.start, o.value.sum]), [[0, 3], [1000, 4]]);
});

test('a snapshot taken mid-stream restores windows, timers and the watermark: the rest of the run is the same as without the restore', async (t) => {
  await fc.assert(fc.asyncProperty(streams, fc.nat(), async (items, cut) => {
    const spec = {
      assigner: SlidingEventTimeWindows.of(60, 20) as WindowAssigner<unknown, Window>, contents: aggregateContents, allowedLateness: 10,
      lateTag: new OutputTag<unknown>('late'),
    };
    const whole = await WindowHarness.create<Ev, Sum>('heap', spec, (e) => e.k);
    await runItems(whole, items);
    const at = items.length === 0 ? 0 : cut % items.length;
    const first = await WindowHarness.create<Ev, Sum>('heap', spec, (e) => e.k);
    for (const it of items.slice(0, at)) { if ('w' in it) first.watermark(it.w); else first.process(it.e, it.e.ts); }
    const snap = structuredClone(first.snapshot(1));
    // The watermark the inputs deliver after a restore starts again low: the operator's own is restored.
    const second = await WindowHarness.create<Ev, Sum>('heap', spec, (e) => e.k, snap);
    second.watermark(-Infinity);
    await runItems(second, items.slice(at));
    t.deepEqual([...first.output, ...second.output], whole.output);
    t.deepEqual([...(first.side.get('late') ?? []), ...(second.side.get('late') ?? [])], whole.side.get('late') ?? []);
  }), { numRuns: 100 });
});

test('bad input names the operator: no timestamp at an event-time window, a bad dynamic gap, a window size <= 0', async (t) => {
  const h = await WindowHarness.create<Ev, Sum>('heap', {
    assigner: TumblingEventTimeWindows.of(10) as WindowAssigner<unknown, Window>, contents: aggregateContents,
  }, (e) => e.k);
  h.process({ k: 0, ts: 1, n: 1 }, 1);
  const e1 = t.throws(() => h.process({ k: 0, ts: 0, n: 1 }, NaN), { instanceOf: WeirError })!;
  t.regex(e1.message, /event-time window needs records with timestamps.*assignTimestampsAndWatermarks/);
  t.is(e1.uid, 'win');
  t.is(e1.position, 'input record 1');
  const g = await WindowHarness.create<Ev, Sum>('heap', {
    assigner: EventTimeSessionWindows.withDynamicGap<Ev>((e) => (e.n > 5 ? -1 : 10)) as WindowAssigner<unknown, Window>, contents: aggregateContents,
  }, (e) => e.k);
  g.process({ k: 0, ts: 1, n: 1 }, 1);
  const e2 = t.throws(() => g.process({ k: 0, ts: 2, n: 7 }, 2), { instanceOf: WeirError })!;
  t.regex(e2.message, /session gap extractor returned -1/);
  t.is(e2.uid, 'win');
  t.is(e2.position, 'input record 1');
  t.throws(() => TumblingEventTimeWindows.of(0), { message: /TumblingEventTimeWindows.of: size must be a number of ms > 0, got 0/ });
  t.throws(() => SlidingEventTimeWindows.of(100, -5), { message: /slide must be a number of ms > 0, got -5/ });
  t.throws(() => EventTimeSessionWindows.withGap(Number.NaN), { message: /gap must be a number of ms > 0, got NaN/ });
  t.is(TimeWindow.getWindowStartWithOffset(-5, 0, 10), -10, 'negative timestamps fall in the window below');
});

test('a purging continuous trigger hears of every timer, contents or not: it fires again an interval later (as Flink)', async (t) => {
  const h = await WindowHarness.create<Ev, Sum>('heap', {
    assigner: TumblingEventTimeWindows.of(100) as WindowAssigner<unknown, Window>, contents: aggregateContents,
    trigger: PurgingTrigger.of(ContinuousEventTimeTrigger.of(10)) as never,
  }, (e) => e.k);
  h.process({ k: 0, ts: 5, n: 1 }, 5);
  h.watermark(10);
  h.watermark(20);
  h.process({ k: 0, ts: 25, n: 2 }, 25);
  h.watermark(30);
  t.deepEqual(h.output.map((o) => o.value.sum), [1, 2], 'fired at 10 and at 30, each time with what came since');
});

test('a continuous event-time trigger never fires past the window\'s end, however late the watermark (as Flink)', async (t) => {
  const h = await WindowHarness.create<Ev, Sum>('heap', {
    assigner: TumblingEventTimeWindows.of(100) as WindowAssigner<unknown, Window>, contents: aggregateContents,
    trigger: ContinuousEventTimeTrigger.of(30) as never, allowedLateness: 1000,
  }, (e) => e.k);
  h.process({ k: 0, ts: 80, n: 1 }, 80);
  h.watermark(1200);
  t.is(h.output.length, 2, 'at 90 and at the end, 99');
});

test('a trigger of GlobalWindows sees the record\'s own timestamp', async (t) => {
  const seen: number[] = [];
  class Spy extends Trigger<unknown, Window> {
    onElement(_: unknown, ts: number): TriggerResult { seen.push(ts); return 'CONTINUE'; }
    onEventTime(): TriggerResult { return 'CONTINUE'; }
    onProcessingTime(): TriggerResult { return 'CONTINUE'; }
    clear(): void {}
  }
  const h = await WindowHarness.create<Ev, Sum>('heap', {
    assigner: GlobalWindows.create() as WindowAssigner<unknown, Window>, contents: aggregateContents, trigger: new Spy() as never,
  }, (e) => e.k);
  h.clock.set(777);
  h.process({ k: 0, ts: 12345, n: 1 }, 12345);
  t.deepEqual(seen, [12345]);
});
