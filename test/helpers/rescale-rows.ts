// The check of the rescale fixture's output (test/fixtures/jobs/rescale.ts): what a run without a savepoint gives.
import type { JobHandle } from '../../core/index.ts';
import type { Row } from '../fixtures/jobs/rescale.ts';

export const N = 4000;
export const KEYS = 40;

type T = { is(a: unknown, b: unknown, m?: string): void; deepEqual(a: unknown, b: unknown, m?: string): void; true(a: boolean, m?: string): void };

/** Every value once; per key counts 1..m with the MapState sum equal to the count; one timer row per key with the key's total. */
export function checkRows(t: T, rows: readonly Row[]): void {
  const values = rows.filter((r) => r[1] >= 0);
  t.is(values.length, N, 'no record lost or duplicated');
  t.is(new Set(values.map((r) => r[1])).size, N, 'every value exactly once');
  const byKey = new Map<number, Row[]>();
  for (const r of values) byKey.set(r[0], [...(byKey.get(r[0]) ?? []), r]);
  t.is(byKey.size, KEYS);
  const timers = rows.filter((r) => r[1] === -1);
  t.is(timers.length, KEYS, 'each key\'s timer fired once');
  for (const [k, list] of byKey) {
    const counts = list.map((r) => r[2]).sort((a, b) => a - b);
    t.deepEqual(counts, counts.map((_, i) => i + 1), `key ${k}: counts 1..${counts.length}`);
    t.true(list.every((r) => r[3] === r[2]), `key ${k}: its MapState sums to its count`);
    t.deepEqual(timers.filter((r) => r[0] === k).map((r) => r[2]), [N / KEYS], `key ${k}: the timer saw the whole count`);
  }
}


/** Waits until the job's sources have emitted `n` records (a held source stops there). */
export async function untilEmitted(job: JobHandle, n: number): Promise<void> {
  for (let i = 0; i < 2000 && job.recordsEmitted() < n; i++) await new Promise((r) => setTimeout(r, 5));
  if (job.recordsEmitted() < n) throw new Error(`only ${job.recordsEmitted()} records emitted`);
}
