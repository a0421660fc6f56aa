// Count windows, apply(WindowFunction) and evictors through real workers at parallelism 2, against oracles.
import test from 'ava';
import { submit } from '../../core/index.ts';
import { values } from '../fixtures/jobs/count-windows.ts';

const run = async (which: string) => (await submit(new URL(`../fixtures/jobs/count-windows.ts?case=${which}`, import.meta.url), { parallelism: 2 })).done;
const sorted = <T>(xs: T[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
const perKey = (k: number) => values.filter((v) => v % 7 === k);

test('countWindow(n) fires and purges every n elements of a key; reduce hands the sum to a WindowFunction', async (t) => {
  const r = await run('count');
  const want: [number, number][] = [];
  for (let k = 0; k < 7; k++) {
    const mine = perKey(k);
    for (let i = 5; i <= mine.length; i += 5) want.push([k, mine.slice(i - 5, i).reduce((a, b) => a + b, 0)]);
  }
  t.deepEqual(sorted(r.collected['out'] as [number, number][]), sorted(want));
});

test('countWindow(size, slide) fires every slide elements of a key over its last size, to a plain apply function', async (t) => {
  const r = await run('sliding');
  const want: [number, number[]][] = [];
  for (let k = 0; k < 7; k++) {
    const mine = perKey(k);
    for (let i = 2; i <= mine.length; i += 2) want.push([k, mine.slice(Math.max(0, i - 4), i)]);
  }
  t.deepEqual(sorted(r.collected['out'] as [number, number[]][]), sorted(want));
});

test('countWindowAll(n) with an AllWindowFunction sums each n of the whole stream', async (t) => {
  const r = await run('all');
  const want = Array.from({ length: 40 }, (_, i) => values.slice(10 * i, 10 * i + 10).reduce((a, b) => a + b, 0));
  // The window runs at parallelism 1; the collect sink after it at 2 (its subtasks' lists are joined), so the order is not kept.
  t.deepEqual(sorted(r.collected['out'] as number[]), sorted(want));
});

test('a time evictor on event-time windows: each window aggregates only its elements within 30 ms of its latest', async (t) => {
  const r = await run('evict');
  const want: [number, number, number][] = [];
  for (let k = 0; k < 3; k++) {
    for (let start = 0; start < 400; start += 100) {
      const mine = values.map((v, i) => [v, i] as const).filter(([v, i]) => v % 3 === k && i >= start && i < start + 100);
      if (mine.length === 0) continue;
      const max = Math.max(...mine.map(([, i]) => i));
      want.push([k, start, mine.filter(([, i]) => i > max - 30).reduce((s, [v]) => s + v, 0)]);
    }
  }
  t.deepEqual(sorted(r.collected['out'] as [number, number, number][]), sorted(want));
});
