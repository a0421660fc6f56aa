// State larger than the JS heap: 5 million keys in a worker limited to 256 MB complete on LMDB and fail on the heap.
import test from 'ava';
import { submit, WeirError } from '../../core/index.ts';

const job = (backend: string) => new URL(`../fixtures/jobs/keyed.ts?mode=big&n=5000000&keys=5000000&b=${backend}`, import.meta.url);
const options = { parallelism: 1, workerHeapMb: 256, lmdbCacheBytes: 32 * 1024 * 1024 } as const;

test.serial('5 million keys complete on lmdb in a worker whose heap is limited to 256 MB', async (t) => {
  const r = await (await submit(job('lmdb'), { ...options, stateBackend: 'lmdb' })).done;
  t.is(r.operators['count']!.recordsIn, 5_000_000);
});

test.serial('the same job on the heap backend runs out of memory and fails clearly', async (t) => {
  const err = await t.throwsAsync((await submit(job('heap'), { ...options, stateBackend: 'heap' })).done, { instanceOf: WeirError });
  t.regex(err!.message, /memory/i);
});
