// Per-split watermarks through a real worker: splits read side by side, each with its own generator, none of their events late.
import test from 'ava';
import { submit } from '../../core/index.ts';
import { eventOf, SPLITS, STALL_SPLITS, stallEventOf } from '../fixtures/jobs/split-watermarks.ts';
import type { Fired } from '../fixtures/jobs/split-watermarks.ts';

const run = async (query: string, options: Record<string, unknown> = {}) =>
  (await submit(new URL(`../fixtures/jobs/split-watermarks.ts?${query}`, import.meta.url), { parallelism: 1, ...options })).done;

/** Every event of every split in its key's 100 ms window: count and sum per window. */
function oracle(splits = SPLITS, event = eventOf): string[] {
  const w = new Map<string, [number, number]>();
  for (const [s, n] of splits) {
    for (let i = 0; i < n; i++) {
      const e = event(s, i);
      const id = `${e.k}@${e.ts - (e.ts % 100)}`;
      const [c, sum] = w.get(id) ?? [0, 0];
      w.set(id, [c + 1, sum + e.v]);
    }
  }
  return [...w].map(([id, [c, sum]]) => `${id}:${c}/${sum}`).sort();
}
const got = (out: Fired[]) => out.map((f) => `${f.k}@${f.start}:${f.count}/${f.sum}`).sort();

test('fromSource(splits, strategy): each split has its own watermark, so splits with overlapping event times lose nothing as late', async (t) => {
  const r = await run('mode=source');
  const out = r.collected['out'] as Fired[];
  t.deepEqual(got(out), oracle());
  t.falsy(r.operators['windows']!.metrics?.['numLateRecordsDropped'], 'no event is late');
  t.true(out.filter((f) => f.early).length > 50, 'windows fired on the way, by the splits\' least watermark, not only at the end');
});

test('the same splits under one watermark after the source (read one after another): the later splits\' events are late', async (t) => {
  const r = await run('mode=after');
  t.true((r.operators['windows']!.metrics?.['numLateRecordsDropped'] ?? 0) > 1000, 'without per-split watermarks, split 1 comes after split 0 passed its time');
});

for (const backend of ['heap', 'lmdb'] as const) {
  test(`${backend}: a failure with the splits half read restores every split at its position: the windows are exact`, async (t) => {
    const r = await run('mode=source&fail=1', {
      stateBackend: backend, checkpointInterval: 20, restartStrategy: 'fixed-delay', restartAttempts: 2, restartDelay: 0,
    });
    t.is(r.restarts, 1);
    t.truthy(r.restoredFrom, 'the restart began from a checkpoint');
    t.deepEqual(got(r.collected['out'] as Fired[]), oracle());
    t.falsy(r.operators['windows']!.metrics?.['numLateRecordsDropped']);
  });
}

test('an idle split (withIdleness) stops holding the watermark back: the other split\'s windows fire while it stalls', async (t) => {
  const r = await run('mode=stall&idleness=200', { autoWatermarkInterval: 20 });
  const out = r.collected['out'] as Fired[];
  t.deepEqual(got(out), oracle(STALL_SPLITS, stallEventOf), 'every window exact: the stalled split\'s later events are past the fired windows');
  // Split 0 reaches about 1500 ms of event time during the 1.5 s stall: some 75 of its 100 windows.
  t.true(out.filter((f) => f.beforeResume).length >= 50, 'split 0\'s windows fired while split 1 stalled');
});

test('without idleness a stalled split holds every window back until it goes on', async (t) => {
  const r = await run('mode=stall', { autoWatermarkInterval: 20 });
  const out = r.collected['out'] as Fired[];
  t.deepEqual(got(out), oracle(STALL_SPLITS, stallEventOf));
  t.is(out.filter((f) => f.beforeResume).length, 0);
});
