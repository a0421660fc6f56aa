// Event time through real workers: timestamps across rings, idle inputs, and windows exactly once across failures
// (in the manner of Flink's EventTimeWindowCheckpointingITCase), aligned and unaligned, both backends, p1 and p2.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit, WeirError } from '../../core/index.ts';
import type { JobResult } from '../../core/index.ts';
import type { Ev, Result } from '../fixtures/jobs/event-time.ts';
import { fixedWindowsOracle, wid } from '../helpers/window-oracle.ts';
import type { Item } from '../helpers/window-oracle.ts';

const N = 12_000;
const KEYS = 20;
const job = (query: string) => new URL(`../fixtures/jobs/event-time.ts?n=${N}&keys=${KEYS}&${query}`, import.meta.url);
const options = (parallelism: number, stateBackend: 'heap' | 'lmdb', unaligned: boolean) => ({
  parallelism, stateBackend, unaligned, checkpointInterval: 20, restartStrategy: 'fixed-delay' as const, restartAttempts: 3, restartDelay: 0,
});

/** The event generator of the fixture, written again: the oracle must not share its code. */
function events(late: boolean): { ev: Ev; late: boolean }[] {
  return Array.from({ length: N }, (_, i) => {
    const isLate = late && i >= N / 2 && i % 101 === 50;
    return { ev: { k: i % KEYS, v: i, ts: isLate ? 2 * i - 3000 : 2 * i - ((i * 7919) % 40) }, late: isLate };
  });
}

/** What a run without failures emits: every window of every key once, with the sum and count of its on-time events. */
function oracle(window: 'tumbling' | 'sliding' | 'session', late: boolean): Result[] {
  const on = events(late).filter((e) => !e.late).map((e) => e.ev);
  const acc = new Map<string, Result>();
  const add = (k: number, start: number, end: number, e: Ev) => {
    const id = `${k}@${start}`;
    const r = acc.get(id) ?? { k, start, end, sum: 0, count: 0 };
    r.sum += e.v;
    r.count++;
    acc.set(id, r);
  };
  const floor = (ts: number, size: number) => ts - (((ts % size) + size) % size);
  if (window === 'session') {
    for (let k = 0; k < KEYS; k++) {
      let cur: Result | null = null;
      for (const e of on.filter((x) => x.k === k).sort((a, b) => a.ts - b.ts)) {
        if (cur !== null && e.ts <= cur.end) { cur.end = Math.max(cur.end, e.ts + 30); cur.sum += e.v; cur.count++; continue; }
        if (cur !== null) acc.set(`${k}@${cur.start}`, cur);
        cur = { k, start: e.ts, end: e.ts + 30, sum: e.v, count: 1 };
      }
      if (cur !== null) acc.set(`${k}@${cur.start}`, cur);
    }
  } else {
    for (const e of on) {
      if (window === 'tumbling') add(e.k, floor(e.ts, 100), floor(e.ts, 100) + 100, e);
      else for (let s = floor(e.ts, 50); s > e.ts - 200; s -= 50) add(e.k, s, s + 200, e);
    }
  }
  return sortResults([...acc.values()]);
}

const sortResults = (rs: Result[]) => [...rs].sort((a, b) => a.k - b.k || a.start - b.start);

function check(t: { is(a: unknown, b: unknown, m?: string): void; deepEqual(a: unknown, b: unknown, m?: string): void }, r: JobResult,
  window: 'tumbling' | 'sliding' | 'session', late: boolean) {
  const out = (r.collected['out'] ?? []) as Result[];
  const want = oracle(window, late);
  t.is(out.length, want.length, 'every window once: none lost, none fired twice');
  t.deepEqual(sortResults(out), want, 'every window\'s sum and count as in a run without failures');
  const lateOut = ((r.collected['late'] ?? []) as Ev[]).map((e) => e.v).sort((a, b) => a - b);
  t.deepEqual(lateOut, events(late).filter((e) => e.late).map((e) => e.ev.v), 'the late events in the side output, each once');
}

for (const backend of ['heap', 'lmdb'] as const) {
  for (const parallelism of [1, 2]) {
    for (const unaligned of [false, true]) {
      for (const fail of ['process', 'snapshot', 'restore'] as const) {
        test(`${backend} p${parallelism} ${unaligned ? 'unaligned' : 'aligned'}: tumbling event-time windows with late events, a failure during ${fail}: exact`, async (t) => {
          const r = await (await submit(job(`fail=${fail}&late=1`), options(parallelism, backend, unaligned))).done;
          t.is(r.restarts, fail === 'restore' ? 2 : 1);
          t.true(r.restoredFrom !== null && r.restoredFrom.id >= 1, 'the last attempt restored a checkpoint');
          check(t, r, 'tumbling', true);
        });
      }
    }
  }
}

for (const window of ['sliding', 'session'] as const) {
  test(`${window} windows, lmdb p2 unaligned, a failure twice in a row: exact`, async (t) => {
    const r = await (await submit(job(`fail=twice&late=1&window=${window}`), options(2, 'lmdb', true))).done;
    t.is(r.restarts, 2);
    check(t, r, window, true);
  });
}

test('two source subtasks: the window\'s watermark is the least of its inputs\', and a failure loses nothing (heap p2 aligned)', async (t) => {
  const r = await (await submit(job('fail=process&srcP=2'), options(2, 'heap', false))).done;
  t.is(r.restarts, 1);
  check(t, r, 'tumbling', false);
});

test('without failures: the oracle\'s windows, and late events counted nowhere else', async (t) => {
  const r = await (await submit(job('fail=none&late=1'), options(2, 'lmdb', true))).done;
  t.is(r.restarts, 0);
  check(t, r, 'tumbling', true);
  t.is(r.operators['windows']!.metrics?.['numLateRecordsDropped'], 0, 'late events went to the side output, not dropped');
});

test('timestamps travel with records through rings: ctx.timestamp() after keyBy, and a timer\'s output carries the timer\'s time', async (t) => {
  const r = await (await submit(new URL('../fixtures/jobs/timestamps.ts?case=carry', import.meta.url), { parallelism: 2 })).done;
  const rows = r.collected['out'] as [string, number, number | null, number | null][];
  const elements = rows.filter((x) => x[0] === 'element');
  t.is(elements.length, 200);
  for (const [, v, seen, downstream] of elements) {
    t.is(seen, 10 * v, 'the keyed function sees the assigned timestamp');
    t.is(downstream, 10 * v, 'what it emitted carries it on, across the next ring');
  }
  const timers = rows.filter((x) => x[0] === 'timer');
  t.is(timers.length, 200);
  for (const [, ts, seen, downstream] of timers) {
    t.is(seen, ts);
    t.is(downstream, ts);
  }
});

for (const idleness of [300, 0]) {
  test(idleness > 0 ? 'an idle input does not hold the watermark back (withIdleness): windows fire while it is quiet'
    : 'without withIdleness, a quiet input holds the watermark until it ends', async (t) => {
    const marker = join(mkdtempSync(join(tmpdir(), 'weir-idle-')), 'fired');
    const r = await (await submit(new URL(`../fixtures/jobs/timestamps.ts?case=idle&idleness=${idleness}&quietMs=${idleness > 0 ? 20_000 : 1500}&marker=${encodeURIComponent(marker)}`,
      import.meta.url), { parallelism: 1 })).done;
    t.is(readFileSync(`${marker}.quiet-done`, 'utf8'), idleness > 0 ? 'fired while quiet' : 'nothing fired');
    t.true((r.collected['out'] as Ev[]).some((e) => e.k === 0), 'the busy source\'s windows fired');
  });
}

test('a recorded event stream (out of order, some events seconds late): every firing and every late event as the oracle says, p1 and p2', async (t) => {
  const { BOUND, LATENESS } = await import('../fixtures/jobs/recorded.ts');
  const readings = readFileSync(new URL('../fixtures/events/sensors.jsonl', import.meta.url), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { sensor: string; ts: number; temp: number });
  // The file is read in order by one subtask: after each reading, the watermark is the largest timestamp so far - BOUND - 1.
  const items: Item<{ k: string; ts: number; n: number; temp: number }>[] = [];
  let max = -Infinity;
  for (const r of readings) {
    items.push({ e: { k: r.sensor, ts: r.ts, n: 1, temp: r.temp } });
    max = Math.max(max, r.ts);
    items.push({ w: max - BOUND - 1 });
  }
  const want = fixedWindowsOracle(items, (ts) => [[ts - (ts % 1000), ts - (ts % 1000) + 1000]], LATENESS);
  t.true(want.late.length > 0, 'the recording has late events');
  t.true([...want.results.values()].some((r) => r.length > 1), 'and windows that fire again within the lateness');
  for (const parallelism of [1, 2]) {
    const r = await (await submit(new URL('../fixtures/jobs/recorded.ts', import.meta.url), { parallelism })).done;
    const got = new Map<string, string[]>();
    for (const s of r.collected['out'] as { sensor: string; start: number; end: number; count: number }[]) {
      const id = wid(s.sensor, s.start, s.end);
      got.set(id, [...(got.get(id) ?? []), `${s.count}/${s.count}`]);
    }
    const counts = new Map([...want.results].map(([id, seq]) => [id, seq.map((x) => { const c = x.split('/')[1]!; return `${c}/${c}`; })]));
    t.deepEqual([...got].sort(), [...counts].sort(), `p${parallelism}: each window's firings and counts`);
    t.deepEqual((r.collected['late'] as { ts: number }[]).map((x) => x.ts).sort(), want.late.map((x) => x.ts).sort(), `p${parallelism}: the late events`);
  }
});

test('examples/sensor-windows.ts: every window\'s readings and every late reading as the oracle says', async (t) => {
  const { reading, READINGS } = await import('../../examples/sensor-windows.ts');
  const items: Item<{ k: number; ts: number; n: number }>[] = [];
  let max = -Infinity;
  for (let i = 0; i < READINGS; i++) {
    const r = reading(i);
    items.push({ e: { k: r.sensor, ts: r.ts, n: 1 } });
    max = Math.max(max, r.ts);
    items.push({ w: max - 501 });
  }
  const want = fixedWindowsOracle(items, (ts) => [[ts - (ts % 1000), ts - (ts % 1000) + 1000]], 0);
  const dir = mkdtempSync(join(tmpdir(), 'weir-example-'));
  const r = await (await submit(new URL('../../examples/sensor-windows.ts', import.meta.url), { parallelism: 2, workDir: join(dir, 'work') })).done;
  t.is(r.operators['means']!.recordsOut, want.results.size, 'one result per sensor and second');
  t.is(r.operators['late']!.recordsIn, want.late.length, 'the late readings printed');
  t.true(want.late.length >= 40);
});

test('a timestamp that is not a finite number fails the job naming the assigner, the subtask and the input record', async (t) => {
  const err = await t.throwsAsync((await submit(new URL('../fixtures/jobs/timestamps.ts?case=bad-ts', import.meta.url), { parallelism: 1 })).done,
    { instanceOf: WeirError });
  t.regex(err!.message, /the timestamp of a record must be a finite number of ms, got string soon/);
  t.is(err!.uid, 'wm');
  t.is(err!.subtask, 0);
  t.is(err!.position, 'input record 3');
});

test('windowAll and window sum/max: one operator sees the whole stream\'s windows (process, reduce, max), and sum(field) per key', async (t) => {
  const r = await (await submit(new URL('../fixtures/jobs/timestamps.ts?case=window-all', import.meta.url), { parallelism: 2 })).done;
  const counts = (r.collected['out'] as [number, number, number][]).sort((a, b) => a[0] - b[0]);
  t.deepEqual(counts, Array.from({ length: 10 }, (_, i) => [i * 100, 100, i + 1]), 'ten windows of 100, the global state counting them');
  const sums = (r.collected['sums'] as { v: number }[]).map((x) => x.v).sort((a, b) => a - b);
  const want = [0, 1, 2, 3].map((w) => Array.from({ length: 250 }, (_, i) => w * 250 + i).reduce((a, b) => a + b)).sort((a, b) => a - b);
  t.deepEqual(sums, want);
  t.is(r.operators['all']!.recordsIn, 1000);
  t.deepEqual((r.collected['maxes'] as { v: number }[]).map((x) => x.v).sort((a, b) => a - b), [249, 499, 749, 999], 'windowAll max(field)');
  const keySums = (r.collected['key-sums'] as { k: number; v: number; ts: number }[]).map((x) => `${x.k}@${Math.floor(x.ts / 100)}:${x.v}`).sort();
  const wantKeySums = new Map<string, number>();
  for (let v = 0; v < 1000; v++) wantKeySums.set(`${v % 7}@${Math.floor(v / 100)}`, (wantKeySums.get(`${v % 7}@${Math.floor(v / 100)}`) ?? 0) + v);
  t.deepEqual(keySums, [...wantKeySums].map(([k, v]) => `${k}:${v}`).sort(), 'window(...).sum(field) per key and window');
});
