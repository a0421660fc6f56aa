// Fused loops: a chain's first operator compiled into a source's loop or a typed input's decoder fails as its entry would, and
// the objectReuse option hands a subtask one reused record per input channel only where nothing downstream keeps it.
import test from 'ava';
import { submit, WeirError } from '../../core/index.ts';

const job = (query: string) => new URL(`../fixtures/jobs/fused.ts?${query}`, import.meta.url);

test("a sequence source's fused map that throws names its operator, subtask and input record", async (t) => {
  const err = await t.throwsAsync((await submit(job('mode=map-fails&n=5000&failAt=3210'), { parallelism: 1 })).done, { instanceOf: WeirError });
  t.is(err!.uid, 'fails');
  t.is(err!.subtask, 0);
  t.is(err!.position, 'input record 3210');
  t.regex(err!.message, /user code failed: no 3210/);
});

test('a process function fused into a typed input\'s decoder that throws names its operator, subtask and input record', async (t) => {
  // One source subtask, one channel: the process function's input records come in the source's order.
  const err = await t.throwsAsync((await submit(job('mode=typed-fails&n=5000&failAt=4321'), { parallelism: 1 })).done, { instanceOf: WeirError });
  t.is(err!.uid, 'fails');
  t.is(err!.subtask, 0);
  t.is(err!.position, 'input record 4321');
  t.regex(err!.message, /user code failed: no 4321\.5/);
});

test('a process function fused into the general codec\'s number-rows decoder that throws names its operator, subtask and input record', async (t) => {
  const err = await t.throwsAsync((await submit(job('mode=objects-fails&n=5000&failAt=4321'), { parallelism: 1 })).done, { instanceOf: WeirError });
  t.is(err!.uid, 'fails');
  t.is(err!.subtask, 0);
  t.is(err!.position, 'input record 4321');
  t.regex(err!.message, /user code failed: no 4321\.5/);
});

test('a map > filter > map chain fused into the number-rows decoder gives what it should, int32 keys and all', async (t) => {
  const n = 20_000;
  const r = await (await submit(job(`mode=objects-chain&n=${n}`), { parallelism: 2 })).done;
  const values = (r.collected['out'] as number[]).sort((a, b) => a - b);
  const expected = Array.from({ length: n }, (_, i) => i).filter((i) => i % 7 !== 3).map((i) => (i + 0.5) * 2);
  t.deepEqual(values, expected);
  t.is(r.operators['doubled']!.recordsIn, n);
  t.is(r.operators['no-threes']!.recordsOut, expected.length);
});

for (const objectReuse of [false, true]) {
  test(`a map > filter > map chain fused into a typed input's decoder gives what it should${objectReuse ? ', with objectReuse' : ''}`, async (t) => {
    const n = 10_000;
    const r = await (await submit(job(`mode=typed-chain&n=${n}`), { parallelism: 2, objectReuse })).done;
    const values = (r.collected['out'] as number[]).sort((a, b) => a - b);
    const expected = Array.from({ length: n }, (_, i) => i).filter((i) => i % 7 !== 3).map((i) => (i + 0.5) * 2);
    t.deepEqual(values, expected);
    t.is(r.operators['doubled']!.recordsIn, n);
    t.is(r.operators['no-threes']!.recordsOut, expected.length);
  });
}

type Out = [number, number, number];

/** Every (key, value) once, and the most distinct input objects any process subtask saw. */
function check(t: import('ava').ExecutionContext, out: readonly Out[], n: number): number {
  t.is(out.length, n);
  const values = out.map(([, key, value]) => { t.is(key, (value - 0.5) % 7); return value; }).sort((a, b) => a - b);
  t.deepEqual(values, Array.from({ length: n }, (_, i) => i + 0.5), 'every record once, none overwritten by a later one');
  return Math.max(...out.map(([distinct]) => distinct));
}

for (const parallelism of [1, 2]) {
  test(`p${parallelism}: objectReuse gives each process subtask one record object per input channel; without it, one per record`, async (t) => {
    const n = 20_000;
    const reused = (await (await submit(job(`mode=reuse&n=${n}`), { parallelism, objectReuse: true })).done).collected['out'] as Out[];
    // p2: each process subtask reads a channel from each of the two source subtasks.
    t.is(check(t, reused, n), parallelism);
    const fresh = (await (await submit(job(`mode=reuse&n=${n}`), { parallelism })).done).collected['out'] as Out[];
    t.true(check(t, fresh, n) > n / parallelism / 2, 'a new object for every record');
  });
}

test('objectReuse gives a tuple of integers and floats only a new array per record, so that its integers stay small integers', async (t) => {
  const n = 5000;
  const out = (await (await submit(job(`mode=reuse&n=${n}&pair=1`), { parallelism: 1, objectReuse: true })).done).collected['out'] as Out[];
  t.is(check(t, out, n), n);
});

test('objectReuse reuses nothing where a writer holds records until its frame is full', async (t) => {
  const n = 20_000;
  const out = (await (await submit(job(`mode=reuse&n=${n}&out=untyped`), { parallelism: 1, objectReuse: true })).done).collected['out'] as Out[];
  t.is(check(t, out, n), n);
});

test('env.enableObjectReuse() in the job module turns it on, as the option does', async (t) => {
  const n = 5000;
  const out = (await (await submit(job(`mode=reuse&n=${n}&reuseInModule=1`), { parallelism: 1 })).done).collected['out'] as Out[];
  t.is(check(t, out, n), 1);
});

test('objectReuse must be a boolean', async (t) => {
  const err = await t.throwsAsync(submit(job('mode=reuse'), { objectReuse: 'yes' } as never), { instanceOf: WeirError });
  t.regex(err!.message, /option 'objectReuse'/);
});
