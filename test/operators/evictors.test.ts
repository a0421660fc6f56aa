// Evictors and count windows in the window operator on virtual time, against brute-force oracles, on both backends and across a restore.
import test from 'ava';
import fc from 'fast-check';
import {
  CountEvictor, CountTrigger, DeltaEvictor, Evictor, GlobalWindows, ProcessWindowFunction, TimeEvictor, TumblingEventTimeWindows, WeirError,
} from '../../core/index.ts';
import type { Collector, ProcessWindowContext, TimestampedValue, Window, WindowAssigner } from '../../core/index.ts';
import type { WindowContents, WindowSpec } from '../../actors/operators/window.ts';
import { BACKENDS } from '../helpers/keyed-harness.ts';
import type { BackendKind } from '../helpers/keyed-harness.ts';
import { WindowHarness } from '../helpers/window-harness.ts';

type Ev = { k: number; ts: number; n: number };
type Fired = { k: number; start: number; ns: number[] };

/** Emits the key, the window's start and the elements' n, in the order the window holds them. */
class Elements extends ProcessWindowFunction<Ev, Fired, number, Window> {
  process(k: number, ctx: ProcessWindowContext<Window>, evs: Iterable<Ev>, out: Collector<Fired>) {
    out.collect({ k, start: ctx.window.start, ns: [...evs].map((e) => e.n) });
  }
}
const processContents: WindowContents = { kind: 'process', windowFn: new Elements() as never };
const global = GlobalWindows.create() as WindowAssigner<unknown, Window>;
type Spec = Partial<WindowSpec> & Pick<WindowSpec, 'assigner' | 'contents'>;

/** Runs `evs` through a harness; with `cut`, snapshots there and goes on in a new harness restored from it. */
async function run(backend: BackendKind, spec: Spec, evs: Ev[], cut?: number, end = true): Promise<Fired[]> {
  let h = await WindowHarness.create<Ev, Fired>(backend, spec, (e) => e.k);
  const out: Fired[] = [];
  for (let i = 0; i < evs.length; i++) {
    if (i === cut) {
      const snap = structuredClone(h.snapshot(1));
      out.push(...h.output.map((o) => o.value));
      h.close();
      h = await WindowHarness.create<Ev, Fired>(backend, spec, (e) => e.k, snap);
    }
    h.process(evs[i]!, evs[i]!.ts);
  }
  if (end) h.watermark(Infinity);
  out.push(...h.output.map((o) => o.value));
  h.close();
  return out;
}

const keyed = fc.array(fc.record({ k: fc.integer({ min: 0, max: 3 }), n: fc.integer({ min: 0, max: 99 }) }), { maxLength: 60 })
  .map((xs) => xs.map((x, i) => ({ ...x, ts: i })));

for (const backend of BACKENDS) {
  test(`${backend}: a sliding count window (count trigger, count evictor) fires every slide elements of a key with its last size, across a restore`, async (t) => {
    await fc.assert(fc.asyncProperty(keyed, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.nat(), async (evs, size, slide, cut) => {
      const spec: Spec = { assigner: global, trigger: CountTrigger.of(slide) as never, evictor: CountEvictor.of(size) as never, contents: processContents };
      const want: Fired[] = [];
      const seen = new Map<number, number[]>();
      for (const e of evs) {
        const mine = [...(seen.get(e.k) ?? []), e.n];
        seen.set(e.k, mine);
        if (mine.length % slide === 0) want.push({ k: e.k, start: -Infinity, ns: mine.slice(-size) });
      }
      const got = await run(backend, spec, evs, evs.length === 0 ? undefined : cut % evs.length, false);
      t.deepEqual(got, want);
    }), { numRuns: backend === 'heap' ? 150 : 25 });
  });

  test(`${backend}: a time evictor keeps what is within its span of a window's latest element; reduce runs over what it keeps`, async (t) => {
    const events = fc.array(fc.record({ k: fc.integer({ min: 0, max: 2 }), ts: fc.integer({ min: 0, max: 400 }), n: fc.integer({ min: 1, max: 9 }) }), { maxLength: 50 });
    await fc.assert(fc.asyncProperty(events, fc.nat(), async (evs, cut) => {
      const spec: Spec = {
        assigner: TumblingEventTimeWindows.of(100) as WindowAssigner<unknown, Window>, evictor: TimeEvictor.of(30) as never,
        contents: { kind: 'reduce', reduce: (a, b) => ({ ...(a as Ev), n: (a as Ev).n + (b as Ev).n }) },
      };
      // No watermark until the end: every window fires once, with all its elements.
      const got = (await run(backend, spec, evs, evs.length === 0 ? undefined : cut % evs.length)) as unknown as Ev[];
      const want = new Map<string, number>();
      for (const id of new Set(evs.map((e) => `${e.k}@${Math.floor(e.ts / 100)}`))) {
        const mine = evs.filter((e) => `${e.k}@${Math.floor(e.ts / 100)}` === id);
        const max = Math.max(...mine.map((e) => e.ts));
        want.set(id, mine.filter((e) => e.ts > max - 30).reduce((s, e) => s + e.n, 0));
      }
      const byId = (xs: [string, number][]) => xs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      t.deepEqual(byId(got.map((r) => [`${r.k}@${Math.floor(r.ts / 100)}`, r.n])), byId([...want]));
      t.is(got.length, want.size);
    }), { numRuns: backend === 'heap' ? 150 : 25 });
  });
}

test('evicting after the window function: a delta evictor leaves the elements near the last one for the next firing', async (t) => {
  const spec: Spec = {
    assigner: global, trigger: CountTrigger.of(3) as never, contents: processContents,
    evictor: DeltaEvictor.of<Ev>(10, (a, b) => Math.abs(a.n - b.n), true) as never,
  };
  const ns = [1, 50, 45, 3, 48, 90, 91, 0, 92];
  const got = await run('heap', spec, ns.map((n, i) => ({ k: 0, ts: i, n })), undefined, false);
  // Fired with all it holds; then those 10 or more from the last element go: [1, 50, 45] -> [50, 45], and so on.
  t.deepEqual(got.map((f) => f.ns), [[1, 50, 45], [50, 45, 3, 48, 90], [90, 91, 0, 92]]);
});

test('an aggregate with a count evictor aggregates only the elements kept; an evictor that empties the window leaves it empty', async (t) => {
  const sum = { createAccumulator: () => 0, add: (e: Ev, a: number) => a + e.n, getResult: (a: number) => a };
  const spec: Spec = {
    assigner: global, trigger: CountTrigger.of(2) as never, evictor: CountEvictor.of(2) as never,
    contents: { kind: 'aggregate', aggregate: sum as never },
  };
  const got = await run('heap', spec, [1, 2, 3, 4, 5, 6].map((n, i) => ({ k: 0, ts: i, n })), undefined, false);
  t.deepEqual(got as unknown as number[], [3, 7, 11]);
  class Everything extends Evictor<Ev, Window> {
    evictBefore(elements: TimestampedValue<Ev>[]) { elements.length = 0; }
    evictAfter() {}
  }
  const emptied = await run('heap', { ...spec, evictor: new Everything() as never }, [1, 2, 3].map((n, i) => ({ k: 0, ts: i, n })), undefined, false);
  t.deepEqual(emptied as unknown as number[], [0], 'an aggregate over no elements is getResult of a fresh accumulator');
});

test('an evictor that throws names the operator, the call and the window', async (t) => {
  class Broken extends Evictor<Ev, Window> {
    evictBefore(): void { throw new Error('no way'); }
    evictAfter() {}
  }
  const h = await WindowHarness.create<Ev, Fired>('heap', {
    assigner: TumblingEventTimeWindows.of(10) as WindowAssigner<unknown, Window>, evictor: new Broken() as never, contents: processContents,
  }, (e) => e.k);
  h.process({ k: 7, ts: 3, n: 1 }, 3);
  const err = t.throws(() => h.watermark(20), { instanceOf: WeirError })!;
  t.regex(err.message, /user code failed in evictor evictBefore: no way/);
  t.is(err.uid, 'win');
  t.is(err.position, 'window [0, 10) of key 7');
  // With an evictor, reduce and aggregate run when the window fires: their failures are named as without one.
  const agg = await WindowHarness.create<Ev, Fired>('heap', {
    assigner: TumblingEventTimeWindows.of(10) as WindowAssigner<unknown, Window>, evictor: CountEvictor.of(5) as never,
    contents: { kind: 'aggregate', aggregate: { createAccumulator: () => 0, add: (e: unknown, a: unknown) => (a as number) + (e as Ev).n,
      getResult: () => { throw new Error('no result'); } } as never },
  }, (e) => e.k);
  agg.process({ k: 1, ts: 2, n: 1 }, 2);
  const err2 = t.throws(() => agg.watermark(20), { instanceOf: WeirError })!;
  t.regex(err2.message, /user code failed in getResult: no result/);
  t.is(err2.position, 'window [0, 10) of key 1');
  t.throws(() => CountEvictor.of(0), { message: /CountEvictor.of takes a whole number > 0, got 0/ });
  t.throws(() => TimeEvictor.of(-1), { message: /TimeEvictor.of takes ms >= 0, got -1/ });
});
