// Savepoint edge cases found in review: a restart's lineage, a failure after a stop committed, checkpoint waiters.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit } from '../../core/index.ts';

const N = 4000;
const job = (q: string) => new URL(`../fixtures/jobs/lineage.ts?n=${N}&${q}`, import.meta.url);
const tmp = () => mkdtempSync(join(tmpdir(), 'weir-spreg-'));
async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 4000 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!f()) throw new Error('timed out waiting');
}

test('a restart of a job started from a savepoint restores its own checkpoints or the savepoint, never an older run\'s newer checkpoint', async (t) => {
  const dir = tmp();
  const hold = join(dir, 'hold');
  const hold2 = join(dir, 'hold2');
  const options = { parallelism: 2, checkpointInterval: 40, checkpointDir: join(dir, 'ck') };
  const first = await submit(job(`hold=${hold}&hold2=${hold2}`), options);
  await until(() => first.recordsEmitted() >= N / 2);
  const sp = await first.savepoint(join(dir, 'sp'));
  writeFileSync(hold, '');
  await until(() => first.recordsEmitted() >= (3 * N) / 4);
  // Checkpoints after the savepoint, in the same directory: a leftover of another lineage for the next run.
  await until(() => first.checkpoints().filter((c) => c.status === 'completed' && c.id > sp.id).length >= 2);
  await first.cancel();
  writeFileSync(hold2, '');
  // The statistics savepoint() resolved with stand for its path.
  const second = await submit(job('failOnce=1'), { ...options, fromSavepoint: sp, restartStrategy: 'fixed-delay', restartAttempts: 3, restartDelay: 10 });
  const r = await second.done;
  t.is(r.restarts, 1);
  t.deepEqual(r.restoredFrom?.path, sp.path, 'the restart went back to the savepoint');
  const got = (r.collected['out'] ?? []) as number[];
  t.is(got.length, N / 2, 'the rest after the savepoint, once');
  t.is(new Set(got).size, N / 2);
});

test('a failure after a stop-with-savepoint committed still resumes from that savepoint, not an older checkpoint', async (t) => {
  const dir = tmp();
  const hold = join(dir, 'hold');
  const failClose = join(dir, 'fail-close');
  const out = join(dir, 'out');
  const options = { parallelism: 2, checkpointInterval: 200, checkpointDir: join(dir, 'ck') };
  const first = await submit(job(`hold=${hold}&failClose=${failClose}&out=${out}`), options);
  await until(() => first.recordsEmitted() >= N / 2);
  await until(() => first.checkpoints().some((c) => c.status === 'completed'));
  writeFileSync(failClose, '');
  const sp = await first.stopWithSavepoint(join(dir, 'sp'));
  await t.throwsAsync(first.done, { message: /close fails/ });
  rmSync(failClose);
  writeFileSync(hold, '');
  const r = await (await submit(job(`hold=${hold}&failClose=${failClose}&out=${out}`), options)).done;
  t.deepEqual(r.restoredFrom, { id: sp.id, path: sp.path });
  const values = readdirSync(out).filter((f) => f.startsWith('part-') && f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(out, f), 'utf8').split('\n').filter((l) => l !== '').map(Number));
  t.is(values.length, N, 'every value committed once');
  t.is(new Set(values).size, N);
});

test('triggerCheckpoint is answered by a checkpoint, never by a savepoint taken meanwhile', async (t) => {
  const dir = tmp();
  const j = await submit(job(`hold=${join(dir, 'never')}`), { parallelism: 2, checkpointInterval: 600_000, checkpointDir: join(dir, 'ck') });
  await until(() => j.recordsEmitted() >= N / 2);
  const [a, b, c] = await Promise.all([j.triggerCheckpoint(), j.savepoint(join(dir, 'sp')), j.triggerCheckpoint()]);
  await j.cancel();
  t.is(a.kind, 'checkpoint');
  t.is(b.kind, 'savepoint');
  t.is(c.kind, 'checkpoint');
  const e = await t.throwsAsync(async () => {
    const k = await submit(job(`hold=${join(dir, 'never')}`), { parallelism: 1, checkpointInterval: 600_000 });
    try {
      await until(() => k.recordsEmitted() > 0);
      await Promise.all([k.stopWithSavepoint(join(dir, 'a')), k.stopWithSavepoint(join(dir, 'b'))]);
    } finally {
      await k.cancel();
    }
  });
  t.regex(e!.message, /a stop-with-savepoint is already in progress/);
});

test('savepoints left staged by a process that died: a half-written one is removed, a complete one named', async (t) => {
  const dir = tmp();
  const ck = join(dir, 'ck');
  const { mkdirSync, existsSync } = await import('node:fs');
  mkdirSync(join(ck, 'sp-98'), { recursive: true });
  writeFileSync(join(ck, 'sp-98', '_metadata'), '{}');
  mkdirSync(join(ck, 'sp-99'), { recursive: true });
  writeFileSync(join(ck, 'sp-99', '0-0.state'), 'half');
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  const h = await submit(job(`hold=${join(dir, 'never')}`), { parallelism: 1, checkpointInterval: 600_000, checkpointDir: ck });
  await h.cancel();
  process.off('warning', onWarning);
  t.false(existsSync(join(ck, 'sp-99')));
  t.true(existsSync(join(ck, 'sp-98')));
  t.true(warnings.some((w) => w.includes(`savepoint ${join(ck, 'sp-98')} completed but was never moved`)), warnings.join('\n'));
});

test('a stop-with-savepoint whose resume pointer cannot be written is given up: nothing commits and the job runs on', async (t) => {
  const dir = tmp();
  const ck = join(dir, 'ck');
  const { mkdirSync } = await import('node:fs');
  const hold = join(dir, 'hold');
  const h = await submit(job(`hold=${hold}`), { parallelism: 2, checkpointInterval: 600_000, checkpointDir: ck });
  await until(() => h.recordsEmitted() >= N / 2);
  mkdirSync(join(ck, '_savepoint.tmp'));   // the pointer's temporary name is taken: its write fails
  const e = await t.throwsAsync(h.stopWithSavepoint(join(dir, 'sp')));
  t.regex(e!.message, /savepoint \d+ failed: completing it failed: .*_savepoint\.tmp/);
  rmSync(join(ck, '_savepoint.tmp'), { recursive: true });
  writeFileSync(hold, '');
  const r = await h.done;   // not suspended: the input runs to its end
  t.is(r.savepoint, null);
  t.is(((r.collected['out'] ?? []) as number[]).length, N, 'every record, once');
});
