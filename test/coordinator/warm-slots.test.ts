// Warm slots: a job that ended well leaves its worker threads to the next job of the process; one that failed does not.
import test from 'ava';
import { submit } from '../../core/index.ts';
import type { JobOptions } from '../../core/index.ts';

const job = (failAt = -1) => new URL(`../fixtures/jobs/warm.ts?failAt=${failAt}`, import.meta.url);

/** The worker threads that mapped, and each thread's highest module-level count. */
async function run(url: URL, options: Partial<JobOptions> = {}): Promise<Map<number, number>> {
  const result = await (await submit(url, { parallelism: 2, restartStrategy: 'none', ...options })).done;
  const counts = new Map<number, number>();
  for (const [thread, n] of result.collected['out'] as [number, number][]) counts.set(thread, Math.max(counts.get(thread) ?? 0, n));
  return counts;
}

// One test, serial steps: the warm pool is the process's, so concurrent tests would take each other's.
test('a finished job leaves its threads to the next job, which imports its module afresh; a failed job leaves nothing', async (t) => {
  const first = await run(job());
  t.is(first.size, 2);
  t.deepEqual([...first.values()].reduce((a, b) => a + b, 0), 100, 'each record counted once, per thread');

  const second = await run(job());
  t.deepEqual([...second.keys()].sort(), [...first.keys()].sort(), 'the second job ran on the first job\'s threads');
  t.deepEqual([...second.values()].reduce((a, b) => a + b, 0), 100, 'and its module-level count started at 0 again');

  // Another shape (a worker heap limit) starts its own threads.
  const limited = await run(job(), { workerHeapMb: 256 });
  t.false([...limited.keys()].some((id) => first.has(id)));

  // warmSlotsMs 0: the job takes no warm threads (the second job's are parked) and leaves none.
  const own = await run(job(), { warmSlotsMs: 0 });
  t.false([...own.keys()].some((id) => first.has(id)), 'warmSlotsMs 0 starts threads of its own');
  const next = await run(job());
  t.deepEqual([...next.keys()].sort(), [...first.keys()].sort(), 'the parked threads were still there for the next job');
  const afterOwn = await run(job(), { warmSlotsMs: 0 });
  t.false([...afterOwn.keys()].some((id) => own.has(id) || first.has(id)));

  // A failure discards the threads it ran on: the next job starts new ones.
  await t.throwsAsync(run(job(50)), { message: /injected failure at 50/ });
  const after = await run(job());
  t.false([...after.keys()].some((id) => first.has(id)), 'no thread of the failed job is reused');

  // The environment is the submitting process's as it is now, on warm threads too (not a copy from when they started).
  const tags: (string | undefined)[][] = [];
  for (const tag of ['one', 'two']) {
    process.env['WEIR_WARM_TAG'] = tag;
    const result = await (await submit(job(), { parallelism: 2, restartStrategy: 'none' })).done;
    tags.push([...new Set((result.collected['out'] as [number, number, string | undefined][]).map((r) => r[2]))]);
  }
  delete process.env['WEIR_WARM_TAG'];
  t.deepEqual(tags, [['one'], ['two']]);
});
