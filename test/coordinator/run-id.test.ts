// Run ids and run directories: one per submit, also for jobs a process submits in the same millisecond.
import test from 'ava';
import { submit } from '../../core/index.ts';
import { newRunId, partFileName } from '../../core/sinks/part-files.ts';

test('run ids made one after another (the same millisecond) differ, and part file names keep the process id', (t) => {
  const ids = Array.from({ length: 1000 }, () => newRunId());
  t.is(new Set(ids).size, ids.length);
  t.regex(partFileName('out', ids[0]!, 0, 0, 1), new RegExp(`^part-out-[0-9a-z]+p${process.pid}-0-0-1\\.jsonl$`));
});

test('the same checkpointed job submitted twice at once runs in two directories, each to its own exact end', async (t) => {
  const job = new URL('../fixtures/jobs/params.ts?mode=keyed&n=20000', import.meta.url);
  const options = { parallelism: 2, checkpointInterval: 20 };
  const [a, b] = await Promise.all([submit(job, options), submit(job, options)]);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  for (const r of [ra, rb]) t.is(r.collected['out']!.length, 20_000);
  const dirOf = (p: string) => p.slice(0, p.lastIndexOf('/chk-'));
  const da = new Set(ra.checkpoints.map((c) => dirOf(c.path)));
  const db = new Set(rb.checkpoints.map((c) => dirOf(c.path)));
  t.is(da.size, 1);
  t.is(db.size, 1);
  t.notDeepEqual([...da], [...db], 'two checkpoint directories');
});
