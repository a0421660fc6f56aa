// Restarts: a failed attempt is torn down and the job runs again, as the restart strategy allows.
import test from 'ava';
import { submit, WeirError } from '../../core/index.ts';

const flaky = (query: string) => new URL(`../fixtures/jobs/flaky.ts?${query}`, import.meta.url);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: unknown[]) => [...(xs as number[])].sort((a, b) => a - b);

for (const parallelism of [1, 2]) {
  test(`p${parallelism}: a job that fails twice restarts twice and ends with every record once`, async (t) => {
    const job = await submit(flaky('failAttempts=2&at=500&n=2000'), { parallelism, restartStrategy: 'fixed-delay', restartAttempts: 3, restartDelay: 10 });
    const r = await job.done;
    t.is(r.restarts, 2);
    // Without checkpoints a restart starts over; the failed attempts' collected records are dropped.
    t.deepEqual(sorted(r.collected['out']!), range(2000));
    t.is(r.operators['flaky']!.recordsIn, 2000, 'the counts are the finishing attempt\'s');
  });
}

test('a worker thread that dies is restarted like any failure', async (t) => {
  const job = await submit(flaky('failAttempts=1&at=300&n=1000&exit'), { parallelism: 2, restartStrategy: 'fixed-delay', restartAttempts: 2, restartDelay: 0 });
  const r = await job.done;
  t.is(r.restarts, 1);
  t.deepEqual(sorted(r.collected['out']!), range(1000));
});

test('a job that exhausts its restarts fails with the last cause and the restart count', async (t) => {
  const job = await submit(flaky('failAttempts=99&at=7&n=100'), { parallelism: 1, restartStrategy: 'fixed-delay', restartAttempts: 2, restartDelay: 1 });
  const err = await t.throwsAsync(job.done, { instanceOf: WeirError });
  t.regex(err!.message, /the job failed after 2 restart\(s\) \(the fixed-delay strategy allows 2 restart\(s\)\): user code failed: injected failure at 7 in attempt 2/);
  t.regex(err!.message, /operator 'flaky'/);
});

test('without a restart strategy (and without checkpointing) a failure fails the job at once', async (t) => {
  const job = await submit(flaky('failAttempts=1&at=7&n=100'), { parallelism: 1 });
  const err = await t.throwsAsync(job.done, { instanceOf: WeirError });
  t.regex(err!.message, /^user code failed: injected failure at 7 in attempt 0/);
});

test('an unrecoverable failure (a worker builds another graph) is never restarted', async (t) => {
  const job = await submit(new URL('../fixtures/jobs/differs.ts', import.meta.url), { parallelism: 1, restartStrategy: 'fixed-delay', restartAttempts: 5, restartDelay: 1 });
  const err = await t.throwsAsync(job.done, { instanceOf: WeirError });
  t.true(err!.unrecoverable);
  t.regex(err!.message, /differs from the coordinator's/);
  t.notRegex(err!.message, /restart/);
});

test('cancel during a restart delay ends the job at once', async (t) => {
  const job = await submit(flaky('failAttempts=99&at=3&n=100'), { parallelism: 1, restartStrategy: 'fixed-delay', restartAttempts: 5, restartDelay: 60_000 });
  const warned = new Promise<void>((resolve) => {
    const on = (w: Error) => { if (/restarting the job in/.test(w.message)) { process.off('warning', on); resolve(); } };
    process.on('warning', on);
  });
  await warned;
  await job.cancel();
  await t.throwsAsync(job.done, { message: /the job was cancelled/ });
});
