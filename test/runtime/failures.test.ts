// Failures: user exceptions, bad job modules, bad options; every one a clear error, nothing left hanging.
import test from 'ava';
import { submit, WeirError } from '../../core/index.ts';
import { submitWhenFlowing } from '../helpers/flowing.ts';

const fixture = (name: string) => new URL(`../fixtures/jobs/${name}`, import.meta.url);

test('an exception in user code fails the job naming operator, subtask and cause', async (t) => {
  const handle = await submit(fixture('params.ts?mode=fail&n=2000'), { parallelism: 2 });
  const err = await t.throwsAsync(handle.done, { instanceOf: WeirError });
  t.is(err!.uid, 'explode');
  t.is(err!.subtask, 0, 'record 777 is in the first half of the sequence');
  t.regex(err!.message, /boom at 777/);
  t.regex(err!.message, /operator 'explode'/);
  t.regex(err!.message, /subtask 0/);
  t.regex(String((err!.cause as Error | undefined)?.stack), /params\.ts/, "the user's own stack comes back as the cause");
});

test('an exception in onTimer, outside processElement, names its operator and subtask too', async (t) => {
  const handle = await submit(new URL('../fixtures/jobs/keyed.ts?mode=timer-fails&n=100&keys=3', import.meta.url), { parallelism: 1 });
  const err = await t.throwsAsync(handle.done, { instanceOf: WeirError });
  t.is(err!.uid, 'fails-late');
  t.is(err!.subtask, 0);
  t.regex(err!.message, /user code failed in onTimer: boom in onTimer/);
  t.regex(err!.message, /event-time timer 1000 of key 'user-\d'/, 'the timer and its key are named, not the watermark that fired it');
  t.notRegex(err!.message, /processWatermark/);
});

test('a job module that does not exist', async (t) => {
  const err = await t.throwsAsync(submit(fixture('nope.ts')), { instanceOf: WeirError });
  t.regex(err!.message, /job module not found: .*nope\.ts/);
});

test('an exception in the job builder is a WeirError naming the file, line and column where it was thrown', async (t) => {
  const err = await t.throwsAsync(submit(fixture('builder-throws.ts')), { instanceOf: WeirError });
  t.regex(err!.message, /the job's builder failed at .*builder-throws\.ts:8:\d+: ReferenceError: fileSink is not defined/);
  t.true(err!.cause instanceof ReferenceError, 'the error thrown is its cause');
});

test('a module that exports no job', async (t) => {
  const err = await t.throwsAsync(submit(fixture('no-export.ts')), { instanceOf: WeirError });
  t.regex(err!.message, /exports no default job.*defineJob/);
});

test('a worker that builds a different graph is refused, naming the operator', async (t) => {
  const handle = await submit(fixture('differs.ts'), { parallelism: 1 });
  const err = await t.throwsAsync(handle.done, { instanceOf: WeirError });
  t.regex(err!.message, /differs from the coordinator's at operator 1/);
  t.regex(err!.message, /step map/);
  t.regex(err!.message, /step filter/);
});

test('invalid options are refused before anything runs, naming the option', async (t) => {
  const bad = [
    [{ parallelism: 0 }, /option 'parallelism' must be an integer in \[1, 32768\], got 0/],
    [{ stateBackend: 'rocksdb' }, /option 'stateBackend' must be one of heap, lmdb, got "rocksdb"/],
    [{ paralelism: 2 }, /unknown option 'paralelism'/],
    [{ ringCapacity: 10 }, /option 'ringCapacity'/],
    [{ fromSavepoint: './sp-1' }, /option 'fromSavepoint' needs checkpointing: set 'checkpointInterval'/],
    [{ fromSavepoint: './no-such-savepoint', checkpointInterval: 100 }, /savepoint directory .*no-such-savepoint does not exist/],
    [{ allowNonRestoredState: 'yes' }, /option 'allowNonRestoredState'/],
    // What savepoint() resolved with stands for its path, and is checked as one.
    [{ fromSavepoint: { path: './no-such-savepoint' }, checkpointInterval: 100 }, /savepoint directory .*no-such-savepoint does not exist/],
    [{ fromSavepoint: { path: 3 }, checkpointInterval: 100 }, /option 'fromSavepoint' must be a non-empty string \(a directory\), or what job.savepoint\(\) resolved with/],
  ] as const;
  for (const [options, message] of bad) {
    const err = await t.throwsAsync(submit(fixture('params.ts?mode=union'), options as never), { instanceOf: WeirError });
    t.regex(err!.message, message);
  }
});

test('a malformed JSON line names the file, line and byte offset', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'weir-'));
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, '{"a":1}\n{"a":2}\n{"a":\n{"a":4}\n');
  const handle = await submit(fixture(`file.ts?in=${encodeURIComponent(input)}&format=jsonl`), { parallelism: 1 });
  const err = await t.throwsAsync(handle.done, { instanceOf: WeirError });
  t.regex(err!.message, /malformed JSON line/);
  t.regex(err!.message, /in\.jsonl:3, byte offset 16/);
  t.is(err!.uid, 'read');
});

test('a missing input file is an error naming the file and operator', async (t) => {
  const handle = await submit(fixture('file.ts?in=/nonexistent/input.txt'), { parallelism: 1 });
  const err = await t.throwsAsync(handle.done, { instanceOf: WeirError });
  t.regex(err!.message, /cannot open input file \/nonexistent\/input\.txt/);
  t.is(err!.uid, 'read');
});

test('a job can be cancelled while it runs', async (t) => {
  // Cancelled once records flow, not before the workers start.
  const handle = await submitWhenFlowing('cancel=1', { parallelism: 2 });
  await handle.cancel();
  const err = await t.throwsAsync(handle.done, { instanceOf: WeirError });
  t.regex(err!.message, /cancelled/);
});
