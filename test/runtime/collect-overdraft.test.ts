// A collect sink whose barrier waits in its ring's overdraft when the checkpoint could complete: its records are not lost.
// Its own file: the test keeps this process's event loop busy, as a slow caller of submit() would.
import test from 'ava';
import { submit } from '../../core/index.ts';
import type { Out } from '../fixtures/jobs/exactly-once.ts';

const N = 20_000;

test('collect under a full ring and a slow coordinator: a failure after a completed checkpoint loses and duplicates nothing', async (t) => {
  const job = new URL(`../fixtures/jobs/exactly-once.ts?n=${N}&keys=50&fail=process&where=before`, import.meta.url);
  // A 128-byte ring fills at once; the coordinator's thread is slow to read it, so barriers queue in the overdraft.
  const busy = (ms: number) => { for (const t0 = performance.now(); performance.now() - t0 < ms;); };
  const handle = await submit(job, { parallelism: 1, checkpointInterval: 20, restartStrategy: 'fixed-delay', restartAttempts: 3, restartDelay: 0, ringCapacity: 128 },
    { onCheckpoint: (s) => { if (s.status === 'completed') busy(500); } });
  const hog = setInterval(() => busy(9.8), 10);
  const r = await handle.done;
  clearInterval(hog);
  t.is(r.restarts, 1);
  const values = (r.collected['out'] as Out[]).map((o) => o[1]);
  t.is(new Set(values).size, N, 'nothing lost');
  t.is(values.length, N, 'nothing duplicated');
});
