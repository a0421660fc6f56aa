// A checkpoint that completes after a failure commits its collect epochs: the next attempt restores it and never emits them again.
import test from 'ava';
import { submit } from '../../core/index.ts';

const N = 3000;

test('a checkpoint acknowledged after another slot failed still commits what its barrier closes on every collect ring', async (t) => {
  const job = new URL(`../fixtures/jobs/late-commit.ts?n=${N}&slowMs=400&tripMs=50`, import.meta.url);
  const r = await (await submit(job, { parallelism: 2, checkpointInterval: 100, restartStrategy: 'fixed-delay', restartAttempts: 2, restartDelay: 0 })).done;
  t.is(r.restarts, 1);
  // The slow subtask's acknowledgement came after the failure, and checkpoint 2 completed: the case under test.
  t.is(r.restoredFrom?.id, 2, 'the second attempt restored the checkpoint that completed after the failure');
  const out = r.collected['out'] as number[];
  for (const s of [0, 1]) {
    const mine = out.filter((v) => v >= s * N && v < (s + 1) * N);
    const distinct = new Set(mine).size;
    t.is(mine.length, N, `subtask ${s}: ${N - distinct} lost, ${mine.length - distinct} duplicated`);
    t.deepEqual(mine, Array.from({ length: N }, (_, i) => s * N + i), `subtask ${s}: every record once, in order`);
  }
});
