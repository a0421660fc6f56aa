// Async I/O through real workers: order, capacity backpressure, timeouts, and exactly once across a failure with requests in flight.
import test from 'ava';
import { submit, WeirError } from '../../core/index.ts';

const N = 1000;
const run = async (query: string, options: Record<string, unknown> = {}) =>
  (await submit(new URL(`../fixtures/jobs/async.ts?n=${N}&${query}`, import.meta.url), { parallelism: 1, ...options })).done;
const expected = Array.from({ length: N }, (_, v) => [v, v * 2]);

test('orderedWait: every result once, in the order of the inputs, though the calls complete out of order', async (t) => {
  const r = await run('mode=ordered&delay=7');
  t.deepEqual((r.collected['out'] as number[][]).map((x) => [x[0], x[1]]), expected);
});

test('unorderedWait: every result once; the order is the completions\'', async (t) => {
  const r = await run('mode=unordered&delay=7');
  const out = (r.collected['out'] as number[][]).map((x) => [x[0], x[1]]);
  t.deepEqual([...out].sort((a, b) => a[0]! - b[0]!), expected);
  t.notDeepEqual(out, expected, 'faster calls overtook slower ones');
});

test('at capacity the operator takes no more input: requests in flight stay within capacity and one check interval', async (t) => {
  const r = await run('mode=ordered&capacity=5&delay=3');
  const max = Math.max(...(r.collected['out'] as number[][]).map((x) => x[2]!));
  t.true(max >= 1);
  // The gate of a subtask whose operator can refuse input looks at the capacity at most every RECORDS_PER_CHECK_REFUSING (64) records.
  t.true(max <= 5 + 64, `at most ${max} in flight`);
  const unbounded = await run('mode=ordered&capacity=1000&delay=3');
  t.true(Math.max(...(unbounded.collected['out'] as number[][]).map((x) => x[2]!)) > max, 'a larger capacity lets more fly');
});

test('a request past its timeout fails the job, naming the operator and the input record', async (t) => {
  const err = await t.throwsAsync(run('mode=ordered&stuck=1&timeout=100'), { instanceOf: WeirError });
  t.regex(err!.message, /async request failed: timed out after 100 ms/);
  t.is(err!.uid, 'lookup');
  t.is(err!.position, 'input record 13');
});

for (const mode of ['ordered', 'unordered']) {
  test(`${mode}: exactly once across a failure with requests in flight (they are in the checkpoint and issued again)`, async (t) => {
    const r = await run(`mode=${mode}&delay=4&fail=1&capacity=20`, { checkpointInterval: 10, restartStrategy: 'fixed-delay', restartAttempts: 2, restartDelay: 0 });
    t.is(r.restarts, 1);
    const out = (r.collected['out'] as number[][]).map((x) => [x[0], x[1]]);
    t.deepEqual([...out].sort((a, b) => a[0]! - b[0]!), expected, 'every input\'s result exactly once');
    if (mode === 'ordered') t.deepEqual(out, expected);
  });
}

for (const mode of ['ordered', 'unordered']) {
  test(`${mode}: exactly once across a failure while the operator waits for its last requests after its input ended`, async (t) => {
    const r = await run(`mode=${mode}&delay=4&tail=1&capacity=50`,
      { checkpointInterval: 20, restartStrategy: 'fixed-delay', restartAttempts: 2, restartDelay: 0 });
    // The failure needs two checkpoints completed after all but the last 20 results: checkpoints go on while the operator waits.
    t.is(r.restarts, 1);
    t.truthy(r.restoredFrom);
    const out = (r.collected['out'] as number[][]).map((x) => [x[0], x[1]]);
    t.deepEqual([...out].sort((a, b) => a[0]! - b[0]!), expected, 'every input\'s result exactly once');
    if (mode === 'ordered') t.deepEqual(out, expected);
  });
}
