// The interval join operator on virtual time against a brute-force oracle: random two-sided streams, watermarks moving
// mid-stream (so buckets are cleaned up as it goes), late elements dropped and counted, both backends, across a restore.
import test from 'ava';
import fc from 'fast-check';
import { ManualClock, ProcessJoinFunction } from '../../core/index.ts';
import type { Collector, OutputTag, ProcessJoinContext } from '../../core/index.ts';
import type { Output, RecordTime, StreamOperator } from '../../core/api/operator.ts';
import { intervalJoinOperator } from '../../actors/operators/two-input.ts';
import { BACKENDS, makeBackend } from '../helpers/keyed-harness.ts';
import type { BackendKind } from '../helpers/keyed-harness.ts';

type Ev = { k: number; id: number };
type Item = { side: 1 | 2; ts: number; e: Ev } | { w: number };

class Pair extends ProcessJoinFunction<Ev, Ev, string> {
  processElement(l: Ev, r: Ev, ctx: ProcessJoinContext, out: Collector<string>) { out.collect(`${l.id}-${r.id}@${ctx.timestamp}`); }
}

async function harness(backend: BackendKind, lower: number, upper: number, restore?: unknown) {
  const time: RecordTime = { value: NaN };
  const metrics: Record<string, number> = {};
  const ctx = {
    uid: 'join', name: 'join', subtask: 0, parallelism: 1, maxParallelism: 128, attempt: 0, runId: 'test', options: {}, clock: new ManualClock(0),
    recordTime: time, counter: (name: string) => ({ inc: (n = 1) => { metrics[name] = (metrics[name] ?? 0) + n; } }),
  };
  const kb = await makeBackend(backend, 'join');
  const op: StreamOperator<unknown, unknown> = intervalJoinOperator(new Pair() as never, lower, upper, (e) => (e as Ev).k, (e) => (e as Ev).k, ctx, kb);
  const output: string[] = [];
  const out: Output<unknown> = { collect: (v) => { output.push(v as string); }, output: <S>(_: OutputTag<S>, __: S) => {}, emitWatermark: () => {} };
  if (restore !== undefined) op.initializeState!(restore);
  op.open?.(ctx, out);
  return {
    output, metrics,
    run(items: Item[]) {
      for (const it of items) {
        if ('w' in it) { op.processWatermark!(it.w, out); continue; }
        time.value = it.ts;
        if (it.side === 1) op.processElement(it.e, out); else op.processElement2!(it.e, out);
      }
    },
    snapshot: () => { kb.flush(); return structuredClone(op.snapshotState!(1)); },
    close: () => op.close?.(),
  };
}

/** What a brute force finds: every pair of one key in bounds among the elements not late when they came; the late ones counted. */
function oracle(items: Item[], lower: number, upper: number) {
  let wm = -Infinity;
  const kept: { side: 1 | 2; ts: number; e: Ev }[] = [];
  let late = 0;
  for (const it of items) {
    if ('w' in it) { wm = Math.max(wm, it.w); continue; }
    if (it.ts < wm) late++;
    else kept.push(it);
  }
  const pairs: string[] = [];
  for (const l of kept.filter((x) => x.side === 1)) {
    for (const r of kept.filter((x) => x.side === 2 && x.e.k === l.e.k)) {
      if (r.ts >= l.ts + lower && r.ts <= l.ts + upper) pairs.push(`${l.e.id}-${r.e.id}@${Math.max(l.ts, r.ts)}`);
    }
  }
  return { pairs: pairs.sort(), late };
}

const items = fc.array(fc.oneof(
  { weight: 8, arbitrary: fc.record({ side: fc.constantFrom(1 as const, 2 as const), ts: fc.integer({ min: 0, max: 200 }), k: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ w: fc.integer({ min: 0, max: 200 }) }) },
), { maxLength: 80 }).map((xs) => xs.map((x, id): Item => ('w' in x ? x : { side: x.side, ts: x.ts, e: { k: x.k, id } })));
const bounds = fc.tuple(fc.integer({ min: -30, max: 30 }), fc.integer({ min: 0, max: 40 })).map(([lo, span]) => [lo, lo + span] as const);

for (const backend of BACKENDS) {
  test(`${backend}: the interval join finds exactly the oracle's pairs, drops and counts late elements, and cleans up as the watermark moves`, async (t) => {
    await fc.assert(fc.asyncProperty(items, bounds, fc.nat(), async (xs, [lower, upper], cut) => {
      const want = oracle(xs, lower, upper);
      const at = xs.length === 0 ? 0 : cut % xs.length;
      const first = await harness(backend, lower, upper);
      first.run(xs.slice(0, at));
      const snap = first.snapshot();
      first.close();
      // Restored at a random cut: the rest joins against the buffered elements of the first part.
      const second = await harness(backend, lower, upper, snap);
      second.run(xs.slice(at));
      // The end of input's watermark fires every cleanup timer: no bucket of either side is left behind.
      second.run([{ w: Infinity }]);
      const tables = (second.snapshot() as { state: { tables: Record<string, unknown> } }).state.tables;
      second.close();
      for (const [name, table] of Object.entries(tables)) {
        const left = Buffer.isBuffer(table) ? table.length : Object.keys(table as object).length;
        if (left !== 0) t.fail(`${name} keeps ${left} entries (bytes) after the final watermark`);
      }
      t.deepEqual([...first.output, ...second.output].sort(), want.pairs);
      t.is((first.metrics['numLateRecordsDropped'] ?? 0) + (second.metrics['numLateRecordsDropped'] ?? 0), want.late);
    }), { numRuns: backend === 'heap' ? 200 : 30 });
  });
}

test('an element at the watermark is not late and still meets a partner at the edge of its reach (Flink drops that pair)', async (t) => {
  for (const [lower, upper] of [[-5, 5], [0, 5], [-5, 0], [-3, 7]] as const) {
    // A left element at 10 reaches right ones up to 10 + upper; a right one at 10 left ones down to 10 + lower.
    const edges: [Item[], string][] = [
      [[{ side: 1, ts: 10, e: { k: 0, id: 1 } }, { w: 10 + upper }, { side: 2, ts: 10 + upper, e: { k: 0, id: 2 } }], `1-2@${10 + upper}`],
      [[{ side: 2, ts: 10, e: { k: 0, id: 1 } }, { w: 10 - lower }, { side: 1, ts: 10 - lower, e: { k: 0, id: 2 } }], `2-1@${10 - lower}`],
    ];
    for (const [xs, pair] of edges) {
      const h = await harness('heap', lower, upper);
      h.run(xs);
      t.deepEqual(oracle(xs, lower, upper).pairs, [pair], 'the edge pair is in bounds and not late');
      t.deepEqual(h.output, [pair], `bounds [${lower}, ${upper}]`);
      h.close();
    }
  }
});
