// Keyed jobs on worker threads over both state backends and parallelism 1 and 2: same results, order per key kept.
import test from 'ava';
import { submit } from '../../core/index.ts';

const job = (query: string) => new URL(`../fixtures/jobs/keyed.ts?${query}`, import.meta.url);
const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

for (const backend of ['heap', 'lmdb'] as const) {
  test(`${backend}: running counts per key agree at parallelism 1 and 2, in order per key`, async (t) => {
    const [one, two] = await Promise.all([1, 2].map(async (p) =>
      (await (await submit(job(`mode=count&n=6000&keys=50&b=${backend}&p=${p}`), { parallelism: p, stateBackend: backend })).done)
        .collected['out'] as [string, number, number][]));
    t.is(one!.length, 6000);
    // Which record gets which count depends on how the two source subtasks interleave; the
    // records and the counts per key do not.
    t.deepEqual(sorted(two!.map(([k, v]) => [k, v])), sorted(one!.map(([k, v]) => [k, v])));
    t.deepEqual(sorted(two!.map(([k, , c]) => [k, c])), sorted(one!.map(([k, , c]) => [k, c])));
    // Each source subtask reads a contiguous range in order, so within one range a key's
    // records arrive in order and the counts they see rise.
    const lanes = new Map<string, [number, number]>();
    for (const [k, v, c] of two!) {
      const lane = `${k}/${v < 3000 ? 0 : 1}`;
      const [lastV, lastC] = lanes.get(lane) ?? [-1, 0];
      t.true(v > lastV && c > lastC, `key ${k} out of order`);
      lanes.set(lane, [v, c]);
    }
    const finals = new Map<string, number>();
    for (const [k, , c] of two!) finals.set(k, Math.max(finals.get(k) ?? 0, c));
    t.deepEqual([...new Set(finals.values())], [120], 'every key ends at its 120 records');
  });

  test(`${backend}: event-time timers fire at end of input with the key's final state`, async (t) => {
    const r = await (await submit(job(`mode=timers&n=3000&keys=30&b=${backend}`), { parallelism: 2, stateBackend: backend })).done;
    t.deepEqual(sorted(r.collected['out']!), sorted(Array.from({ length: 30 }, (_, i) => [`user-${i}`, 100])));
  });

  test(`${backend}: at the end of input event-time timers fire and pending processing-time timers are dropped, as in Flink`, async (t) => {
    const r = await (await submit(job(`mode=both-timers&n=400&keys=20&b=${backend}`), { parallelism: 2, stateBackend: backend })).done;
    t.deepEqual(sorted(r.collected['out']!), sorted(Array.from({ length: 20 }, (_, i) => [`user-${i}`, 'EVENT_TIME'])));
  });

  test(`${backend}: sum, min, maxBy and reduce are running aggregates, one output per input`, async (t) => {
    const r = await (await submit(job(`mode=aggs&n=700&b=${backend}`), { parallelism: 2, stateBackend: backend })).done;
    const last = (uid: string) => {
      const m = new Map<number, number[]>();
      for (const row of r.collected[uid] as number[][]) m.set(row[0]!, row);
      return m;
    };
    for (const uid of ['sum-out', 'min-out', 'maxBy-out', 'reduce-out']) t.is(r.collected[uid]!.length, 700, uid);
    const values = (k: number) => Array.from({ length: 700 }, (_, v) => v).filter((v) => v % 5 === k);
    for (let k = 0; k < 5; k++) {
      const vs = values(k);
      t.is(last('sum-out').get(k)![1], vs.reduce((s, v) => s + (v % 7), 0));
      t.is(last('min-out').get(k)![1], 0);
      t.is(last('maxBy-out').get(k)![1], 6);
      t.is(last('maxBy-out').get(k)![2], vs.find((v) => v % 7 === 6)!, 'maxBy keeps the first record with the maximum');
      t.deepEqual(last('reduce-out').get(k), [k, vs.reduce((s, v) => s + (v % 7), 0), Math.max(...vs)]);
    }
  });
}
