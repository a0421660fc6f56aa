// Stop-with-savepoint, with and without drain, on a job with event-time timers (the final watermark fires them):
// without drain nothing fires before the resume, and once after it; with drain it all fires before the savepoint.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit } from '../../core/index.ts';
import type { Row } from '../fixtures/jobs/rescale.ts';
import { checkRows, untilEmitted } from '../helpers/rescale-rows.ts';

const N = 4000;
const KEYS = 40;
const job = (q: string) => new URL(`../fixtures/jobs/rescale.ts?n=${N}&keys=${KEYS}&${q}`, import.meta.url);
const tmp = () => mkdtempSync(join(tmpdir(), 'weir-stop-'));


for (const backend of ['heap', 'lmdb'] as const) {
  test(`${backend}: stop-with-savepoint without drain commits up to it, fires no timer, and the same command resumes from it`, async (t) => {
    const dir = tmp();
    const hold = join(dir, 'hold');
    const options = { parallelism: 2, stateBackend: backend, checkpointInterval: 40, checkpointDir: join(dir, 'ck') };
    const first = await submit(job(`hold=${hold}`), options);
    await untilEmitted(first, N / 2);
    const sp = await first.stopWithSavepoint(join(dir, 'sp'));
    const r1 = await first.done;
    t.is(r1.savepoint?.path, sp.path);
    t.is(sp.kind, 'savepoint');
    const rows1 = (r1.collected['out'] ?? []) as Row[];
    t.is(rows1.filter((r) => r[1] >= 0).length, N / 2, 'every record before the savepoint is committed, none after');
    t.is(rows1.filter((r) => r[1] === -1).length, 0, 'no end of input: no timer fired');
    t.true(existsSync(join(dir, 'ck', '_savepoint')), 'the checkpoint directory points at the savepoint');
    t.deepEqual(readdirSync(join(dir, 'ck')).filter((f) => f.startsWith('chk-')), [], 'older checkpoints are gone');
    // The same command (no hold now, so the rest flows) on the same directory resumes from the savepoint.
    writeFileSync(hold, '');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const r2 = await (await submit(job(`hold=${hold}`), options)).done;
    process.off('warning', onWarning);
    t.deepEqual(r2.restoredFrom, { id: sp.id, path: sp.path });
    t.true(warnings.some((w) => w.includes(`resuming from savepoint ${sp.id}`) && w.includes('stopped with it')), warnings.join('\n'));
    checkRows(t, [...rows1, ...((r2.collected['out'] ?? []) as Row[])]);
  });
}

test('stop-with-savepoint with drain ends the input first: the timers fire before it, and a resume from it fires nothing again', async (t) => {
  const dir = tmp();
  const hold = join(dir, 'hold');
  const out = join(dir, 'out');
  const options = { parallelism: 2, checkpointInterval: 40, checkpointDir: join(dir, 'ck') };
  const first = await submit(job(`hold=${hold}&out=${out}`), options);
  await untilEmitted(first, N / 2);
  const sp = await first.stopWithSavepoint(join(dir, 'sp'), { drain: true });
  const r1 = await first.done;
  t.is(r1.savepoint?.id, sp.id);
  const read = () => readdirSync(out).filter((f) => f.startsWith('part-') && f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(out, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row));
  const rows = read();
  const timers = rows.filter((r) => r[1] === -1);
  t.is(timers.length, KEYS, 'drained: the final watermark fired every key\'s timer');
  t.true(timers.every((r) => r[2] === N / 2 / KEYS), 'each with the count so far');
  const r2 = await (await submit(job(`out=${out}`), { ...options, checkpointDir: join(dir, 'ck2'), fromSavepoint: sp.path })).done;
  t.deepEqual(r2.restoredFrom, { id: sp.id, path: sp.path });
  t.deepEqual(read().length, rows.length, 'a drained savepoint holds finished subtasks: nothing runs or fires again');
});

test('a savepoint without checkpointing is refused, naming the option', async (t) => {
  const first = await submit(job(`hold=${join(tmp(), 'never')}`), { parallelism: 1 });
  const e = await t.throwsAsync(first.savepoint(tmp()));
  t.regex(e!.message, /checkpointInterval/);
  await first.cancel();
});
