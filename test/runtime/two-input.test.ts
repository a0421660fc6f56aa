// Two-input operators through real workers: keyed co-process, the broadcast state pattern (across a failure), interval and window joins
// against brute-force oracles.
import test from 'ava';
import { submit } from '../../core/index.ts';
import { clicks, views } from '../fixtures/jobs/two-input.ts';

const run = async (query: string, options: Record<string, unknown> = {}) =>
  (await submit(new URL(`../fixtures/jobs/two-input.ts?${query}`, import.meta.url), { parallelism: 2, ...options })).done;
const sorted = <T>(xs: T[]) => [...xs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

test('connect + keyBy + KeyedCoProcessFunction: both sides of a key meet in its state, in either order', async (t) => {
  const r = await run('case=keyed-co');
  const out = r.collected['out'] as [number, string, number][];
  t.deepEqual(sorted(out), sorted(Array.from({ length: 300 }, (_, i) => [i, `item-${i}`, (299 - i) * 10] as [number, string, number])));
});

test('a CoProcessFunction sees each input through its own method', async (t) => {
  const r = await run('case=co', { parallelism: 1 });
  t.deepEqual(sorted(r.collected['out'] as string[]), ['n1', 'n2', 'n3', 'sa', 'sb']);
});

test('the broadcast state pattern: every rule reaches every subtask, and every key ends with the last rule', async (t) => {
  const r = await run('case=broadcast');
  const out = r.collected['out'] as [string, number, number][];
  const seen = out.filter((x) => x[0] === 'rule-seen');
  t.deepEqual(sorted(seen), sorted([0, 1].flatMap((s) => [10, 20, 30].map((rule) => ['rule-seen', s, rule] as [string, number, number]))));
  const ends = out.filter((x) => x[0] === 'key-ends-with');
  t.is(ends.length, 17);
  t.true(ends.every((x) => x[2] === 30), 'each key, on each subtask, read the last rule');
});

test('broadcast state is checkpointed: after a failure (the rules source already finished) every key still reads the last rule', async (t) => {
  const r = await run('case=broadcast&fail=1', { checkpointInterval: 20, restartStrategy: 'fixed-delay', restartAttempts: 2, restartDelay: 0 });
  t.is(r.restarts, 1);
  const ends = (r.collected['out'] as [string, number, number][]).filter((x) => x[0] === 'key-ends-with');
  t.is(ends.length, 17);
  t.true(ends.every((x) => x[2] === 30));
});

test('a BroadcastProcessFunction without keys reads the broadcast state on the other side', async (t) => {
  const r = await run('case=broadcast-unkeyed', { parallelism: 1 });
  const out = r.collected['out'] as string[];
  t.is(out.length, 3);
  t.true(out.every((x) => /^[123]:[01]$/.test(x)));
});

test('interval join: exactly the pairs a brute-force oracle finds, stamped with the later timestamp', async (t) => {
  const r = await run('case=interval');
  const want = clicks.flatMap((c) => views.filter((v) => v.user === c.user && v.ts >= c.ts - 20 && v.ts <= c.ts + 10)
    .map((v) => [c.id, v.page, Math.max(c.ts, v.ts)] as [number, number, number]));
  t.true(want.length > 50, 'the oracle finds pairs');
  t.deepEqual(sorted(r.collected['out'] as [number, number, number][]), sorted(want));
});

test('window join: every pair of a user\'s clicks and views in one tumbling window, as the oracle says', async (t) => {
  const r = await run('case=window-join');
  const w = (ts: number) => Math.floor(ts / 50);
  const want = clicks.flatMap((c) => views.filter((v) => v.user === c.user && w(v.ts) === w(c.ts)).map((v) => [c.id, v.page] as [number, number]));
  t.true(want.length > 50);
  t.deepEqual(sorted(r.collected['out'] as [number, number][]), sorted(want));
});
