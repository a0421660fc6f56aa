// Savepoints restored at another parallelism and into another backend, in the manner of Flink's RescalingITCase:
// every key's state and the committed output equal those of a run without a savepoint, whatever p -> p'.
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit } from '../../core/index.ts';
import type { Row } from '../fixtures/jobs/rescale.ts';
import { checkRows, untilEmitted } from '../helpers/rescale-rows.ts';

const N = 4000;
const KEYS = 40;
const job = (q: string) => new URL(`../fixtures/jobs/rescale.ts?n=${N}&keys=${KEYS}&${q}`, import.meta.url);
const tmp = () => mkdtempSync(join(tmpdir(), 'weir-sp-'));

function committed(dir: string): Row[] {
  return readdirSync(dir).filter((f) => f.startsWith('part-') && f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row));
}


interface Leg { readonly parallelism: number; readonly stateBackend: 'heap' | 'lmdb' }

/** Runs half the input at `a`, takes a savepoint, cancels; restores it at `b` (moved first if asked) and runs to the end. */
async function rescale(a: Leg, b: Leg, opts: { move?: boolean } = {}) {
  const dir = tmp();
  const out = join(dir, 'out');
  const hold = join(dir, 'hold');
  const options = { maxParallelism: 16, checkpointInterval: 50, restartStrategy: 'none' as const };
  const first = await submit(job(`hold=${hold}&out=${out}`), { ...options, ...a, checkpointDir: join(dir, 'ck1') });
  await untilEmitted(first, N / 2);
  const sp = await first.savepoint(join(dir, 'savepoints'));
  await first.cancel();
  let path = sp.path;
  if (opts.move === true) {
    path = join(dir, 'moved-savepoint');
    renameSync(sp.path, path);
  }
  const second = await submit(job(`out=${out}`), { ...options, ...b, checkpointDir: join(dir, 'ck2'), fromSavepoint: path });
  const r = await second.done;
  return { sp, r, rows: committed(out), dir };
}

for (const [a, b] of [[1, 2], [2, 1], [2, 3], [3, 2], [4, 7]] as const) {
  test(`a savepoint at parallelism ${a} restored at ${b}: every key's state and the output as without one`, async (t) => {
    const { sp, r, rows } = await rescale({ parallelism: a, stateBackend: 'heap' }, { parallelism: b, stateBackend: 'heap' });
    t.is(sp.kind, 'savepoint');
    t.is(sp.alignment, 'aligned');
    t.is(sp.status, 'completed');
    t.true(existsSync(join(sp.path, '_metadata')));
    t.deepEqual(r.restoredFrom, { id: sp.id, path: sp.path });
    checkRows(t, rows);
  });
}

for (const [from, to] of [['heap', 'lmdb'], ['lmdb', 'heap']] as const) {
  test(`a ${from} savepoint restored into ${to} (2 -> 3)`, async (t) => {
    const { rows } = await rescale({ parallelism: 2, stateBackend: from }, { parallelism: 3, stateBackend: to });
    checkRows(t, rows);
  });
}

test('a moved savepoint directory restores from where it is now (lmdb, same parallelism)', async (t) => {
  const { rows } = await rescale({ parallelism: 2, stateBackend: 'lmdb' }, { parallelism: 2, stateBackend: 'lmdb' }, { move: true });
  checkRows(t, rows);
});

for (const [from, to] of [['heap', 'lmdb'], ['lmdb', 'heap']] as const) {
  test(`a retained ${from} checkpoint restored into ${to} at another parallelism (2 -> 3)`, async (t) => {
    const dir = tmp();
    const out = join(dir, 'out');
    const hold = join(dir, 'hold');
    const options = { maxParallelism: 16, checkpointInterval: 60_000, restartStrategy: 'none' as const };
    const first = await submit(job(`hold=${hold}&out=${out}`), { ...options, parallelism: 2, stateBackend: from, checkpointDir: join(dir, 'ck1') });
    await untilEmitted(first, N / 2);
    const chk = await first.triggerCheckpoint();
    t.is(chk.kind, 'checkpoint');
    await first.cancel();
    const second = await submit(job(`out=${out}`), { ...options, parallelism: 3, stateBackend: to, checkpointDir: join(dir, 'ck2'), fromSavepoint: chk.path });
    await second.done;
    checkRows(t, committed(out));
  });
}

test('state of an operator the job no longer has is refused without allowNonRestoredState, and skipped with it', async (t) => {
  const dir = tmp();
  const hold = join(dir, 'hold');
  const first = await submit(job(`hold=${hold}&out=${join(dir, 'out')}`), { parallelism: 2, checkpointInterval: 60_000, checkpointDir: join(dir, 'ck1') });
  await untilEmitted(first, N / 2);
  const sp = await first.savepoint(join(dir, 'sp'));
  await first.cancel();
  // edge=rebalance has no 'count' operator: its keyed state has nowhere to go.
  const e = await t.throwsAsync(submit(job(`edge=rebalance&out=${join(dir, 'out2')}`), { parallelism: 2, checkpointInterval: 50, fromSavepoint: sp.path }));
  t.regex(e!.message, /holds state of operator 'count', which this job does not have/);
  t.regex(e!.message, /allowNonRestoredState/);
  const r = await (await submit(job(`edge=rebalance&out=${join(dir, 'out2')}`), {
    parallelism: 2, checkpointInterval: 50, fromSavepoint: sp.path, allowNonRestoredState: true,
  })).done;
  t.deepEqual(r.restoredFrom?.path, sp.path);
  // The source restored its positions: only the second half is read again.
  t.is(committed(join(dir, 'out2')).filter((r) => r[0] >= 0).length, N / 2);
});

test('a changed maxParallelism is refused, naming the option; unset, it is the savepoint\'s', async (t) => {
  const dir = tmp();
  const hold = join(dir, 'hold');
  const first = await submit(job(`hold=${hold}&out=${join(dir, 'out')}`), { parallelism: 2, maxParallelism: 16, checkpointInterval: 60_000 });
  await untilEmitted(first, N / 2);
  const sp = await first.savepoint(join(dir, 'sp'));
  await first.cancel();
  const e = await t.throwsAsync(submit(job(`out=${join(dir, 'out')}`), { parallelism: 3, maxParallelism: 32, checkpointInterval: 50, fromSavepoint: sp.path }));
  t.regex(e!.message, /option 'maxParallelism' is 32, but .* keyed state in 16 key groups/);
  await (await submit(job(`out=${join(dir, 'out')}`), { parallelism: 3, checkpointInterval: 50, fromSavepoint: sp.path })).done;
  checkRows(t, committed(join(dir, 'out')));
});

test('a corrupt savepoint is refused, naming the damaged file', async (t) => {
  const dir = tmp();
  const hold = join(dir, 'hold');
  const first = await submit(job(`hold=${hold}&out=${join(dir, 'out')}`), { parallelism: 2, checkpointInterval: 60_000 });
  await untilEmitted(first, N / 2);
  const sp = await first.savepoint(join(dir, 'sp'));
  await first.cancel();
  const victim = readdirSync(sp.path).find((f) => f.endsWith('.state'))!;
  const bytes = readFileSync(join(sp.path, victim));
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(join(sp.path, victim), bytes);
  const e = await t.throwsAsync(submit(job(`out=${join(dir, 'out')}`), { parallelism: 2, checkpointInterval: 50, fromSavepoint: sp.path }));
  t.true(e!.message.includes(join(sp.path, victim)), e!.message);
  t.regex(e!.message, /fails its checksum/);
  const missing = await t.throwsAsync(submit(job(`out=${join(dir, 'out')}`), { parallelism: 2, checkpointInterval: 50, fromSavepoint: join(dir, 'sp') }));
  t.regex(missing!.message, /holds no _metadata: .* \(it holds sp-\d+: name one of them\)/);
});

test('on a scale-down the file sink removes the work in progress of the old subtasks it took over', async (t) => {
  const { partFileName, newRunId } = await import('../../core/sinks/part-files.ts');
  const dir = tmp();
  const out = join(dir, 'out');
  const hold = join(dir, 'hold');
  const options = { maxParallelism: 16, checkpointInterval: 50, restartStrategy: 'none' as const };
  const first = await submit(job(`hold=${hold}&out=${out}`), { ...options, parallelism: 3, checkpointDir: join(dir, 'ck1') });
  await untilEmitted(first, N / 2);
  const sp = await first.savepoint(join(dir, 'sp'));
  await first.cancel();
  // What old subtask 2 (gone at parallelism 2) was writing when the first run died.
  const stray = join(out, `${partFileName('out', newRunId(), 2, 0, 99)}.inprogress`);
  writeFileSync(stray, '[1,1,1,1]\n');
  await (await submit(job(`out=${out}`), { ...options, parallelism: 2, checkpointDir: join(dir, 'ck2'), fromSavepoint: sp.path })).done;
  t.false(existsSync(stray), 'subtask 0 took over old subtask 2 and removed its leftover');
  checkRows(t, committed(out));
});
