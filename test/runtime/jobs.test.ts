// Whole jobs on real worker threads: partitioning, parallelism, side outputs, backpressure, no deadlock.
import test from 'ava';
import { submit } from '../../core/index.ts';
import { submitWhenFlowing } from '../helpers/flowing.ts';

const job = (query: string) => new URL(`../fixtures/jobs/params.ts?${query}`, import.meta.url);
const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

/** Order is kept per key and per producing subtask; source subtask i reads the i-th contiguous range. */
function checkPerKeyOrder(t: { true: (v: boolean, m?: string) => void }, rows: number[][], n: number, p: number) {
  const last = new Map<string, number>();
  for (const [k, v] of rows) {
    const lane = `${k}/${Math.floor((v! * p) / n)}`;
    t.true((last.get(lane) ?? -1) < v!, `key ${k} out of order`);
    last.set(lane, v!);
  }
}

test('keyBy pins each key to one subtask and keeps per-key order', async (t) => {
  const result = await (await submit(job('mode=keyed&n=20000'), { parallelism: 2 })).done;
  const rows = result.collected['out'] as [number, number, number][];
  t.is(rows.length, 20_000);
  const subtaskOf = new Map<number, number>();
  for (const [key, , subtask] of rows) {
    t.is(subtaskOf.get(key) ?? subtask, subtask, `key ${key} seen on two subtasks`);
    subtaskOf.set(key, subtask);
  }
  checkPerKeyOrder(t, rows, 20_000, 2);
  t.deepEqual([...new Set(subtaskOf.values())].sort(), [0, 1], 'both subtasks got keys');
  t.is(result.operators['tag']!.recordsIn, 20_000);
});

test('the same job gives the same multiset of records at parallelism 1, 2 and 4', async (t) => {
  const runs = await Promise.all([1, 2, 4].map(async (p) =>
    (await (await submit(job(`mode=keyed&n=5000&p=${p}`), { parallelism: p })).done).collected['out'] as number[][]));
  const strip = (rows: number[][]) => sorted(rows.map(([k, v]) => [k, v]));
  t.is(runs[0]!.length, 5000);
  t.deepEqual(strip(runs[1]!), strip(runs[0]!));
  t.deepEqual(strip(runs[2]!), strip(runs[0]!));
  runs.forEach((rows, i) => checkPerKeyOrder(t, rows, 5000, [1, 2, 4][i]!));
});

for (const mode of ['side', 'side-alias']) {
  test(`side outputs reach their own stream (${mode === 'side' ? 'getSideOutput' : 'sideOutput'})`, async (t) => {
    const r = await (await submit(job(`mode=${mode}&n=1000`), { parallelism: 2 })).done;
    t.is(r.collected['even']!.length, 500);
    t.deepEqual(sorted(r.collected['odd']!), sorted(Array.from({ length: 500 }, (_, i) => -(2 * i + 1))));
    t.true((r.collected['even'] as number[]).every((v) => v % 2 === 0));
  });
}

test('union of a collection and a sequence', async (t) => {
  const r = await (await submit(job('mode=union'), { parallelism: 2 })).done;
  t.deepEqual(sorted(r.collected['out']!), sorted(['A', 'B', 'C', '1', '2', '3']));
});

test('crossing rebalance edges with two-frame rings and a 10^4-per-input flatMap finish', async (t) => {
  // 256-byte rings hold two frames of a few records each; every edge crosses both workers.
  const r = await (await submit(job('mode=flatmap&n=20'), { parallelism: 2, ringCapacity: 256, batchSize: 8 })).done;
  t.is(r.collected['out']!.length, 200_000);
  t.deepEqual(new Set(r.collected['out'] as number[]).size, 200_000);
  t.true(r.peakOverdraftBytes > 0, 'the overdraft was used');
});

test('a slow sink backpressures a fast source with bounded memory', async (t) => {
  const r = await (await submit(job('mode=slow&n=3000'), { parallelism: 2, ringCapacity: 4096, batchSize: 16 })).done;
  t.is(r.collected['out']!.length, 3000);
  // Each source step emits at most 4 batches; the overdraft holds at most what one step emits
  // (4 * 16 records of ~120 encoded bytes) beyond the ring, never the whole input (3000 records).
  t.true(r.peakOverdraftBytes <= 4 * 16 * 200, `peak overdraft ${r.peakOverdraftBytes} bytes`);
  t.true(r.peakOverdraftBytes > 0, 'the source was held back by a full ring');
});

test('broadcast sends every record to every subtask; rescale to a local group', async (t) => {
  const b = await (await submit(job('mode=broadcast&n=100'), { parallelism: 2 })).done;
  t.is(b.collected['out']!.length, 300, '100 records x 3 subtasks');
  t.deepEqual(sorted(b.collected['out']!), sorted([0, 1, 2].flatMap(() => Array.from({ length: 100 }, (_, i) => i))));
  const r = await (await submit(job('mode=rescale&n=100'), { parallelism: 2 })).done;
  t.deepEqual(sorted(r.collected['out']!), sorted(Array.from({ length: 100 }, (_, i) => i)));
});

test('stop() ends an unbounded source gracefully: everything emitted is processed', async (t) => {
  const handle = await submitWhenFlowing('stop=1', { parallelism: 2 });
  const result = await handle.stop();
  const out = result.operators['endless']!.recordsOut;
  t.true(out >= 10_000);
  t.is(result.operators['pass']!.recordsIn, out, 'nothing emitted was dropped');
  t.is(result.operators['sink']!.recordsIn, out);
});

test('a live source with nothing to emit is polled again later and its records still arrive', async (t) => {
  const r = await (await submit(job('mode=idle'), { parallelism: 1 })).done;
  t.deepEqual(r.collected['out'], Array.from({ length: 100 }, (_, i) => i));
});
