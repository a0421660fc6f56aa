// Checkpoints as a user sees them: statistics, manual triggers, timers across a restore, finished sources,
// timeouts, and damaged checkpoints skipped for the one before.
import test from 'ava';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit, WeirError } from '../../core/index.ts';
import type { CheckpointStats, JobOptions } from '../../core/index.ts';
import type { Out } from '../fixtures/jobs/exactly-once.ts';

const N = 20_000;
const KEYS = 50;
const job = (query: string) => new URL(`../fixtures/jobs/exactly-once.ts?n=${N}&keys=${KEYS}&${query}`, import.meta.url);
const options = (more: Partial<JobOptions> = {}): Partial<JobOptions> => ({
  parallelism: 2, checkpointInterval: 20, restartStrategy: 'fixed-delay', restartAttempts: 3, restartDelay: 0, ...more,
});

for (const backend of ['heap', 'lmdb'] as const) {
  test(`${backend}: event-time timers survive a restore and fire once, with the whole count`, async (t) => {
    const r = await (await submit(job('fail=process&topology=timers'), options({ stateBackend: backend }))).done;
    t.is(r.restarts, 1);
    t.true(r.restoredFrom !== null && r.restoredFrom.id >= 1);
    const out = r.collected['out'] as Out[];
    t.is(out.length, KEYS, 'one firing per key');
    t.deepEqual(out.map((o) => o[2]).sort((a, b) => a - b), Array(KEYS).fill(N / KEYS));
  });
}

test('a parallelism-1 source that ends at once beside a parallelism-2 one: checkpoints go on, exactly once', async (t) => {
  const r = await (await submit(job('fail=process&topology=mixed'), options())).done;
  t.is(r.restarts, 1);
  t.true(r.restoredFrom !== null && r.restoredFrom.id >= 1);
  const out = r.collected['out'] as Out[];
  t.is(out.length, N + 10);
  t.deepEqual(out.filter((o) => o[0] === -1).map((o) => o[2]).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i + 1));
});

test('triggerCheckpoint resolves with the stats of a completed checkpoint; checkpoints() lists it', async (t) => {
  const marker = join(mkdtempSync(join(tmpdir(), 'weir-hold-')), 'go');
  const handle = await submit(job(`fail=none&hold=${encodeURIComponent(marker)}`), options({ checkpointInterval: 60_000 }));
  const s = await handle.triggerCheckpoint();
  t.like(s, { status: 'completed', kind: 'checkpoint', alignment: 'aligned', persistedBytes: 0 });
  t.true(s.stateBytes > 0 && s.durationMs >= s.syncMs);
  t.true(handle.checkpoints().some((c) => c.id === s.id));
  // The metadata names the job, its plan, its key groups and every keyed state with its kind and type.
  const meta = JSON.parse(readFileSync(join(s.path, '_metadata'), 'utf8'));
  t.like(meta, { format: 2, kind: 'checkpoint', id: s.id, stateBackend: 'heap', state: { count: [{ name: 'count', signature: 'value<any>' }] } });
  t.deepEqual(meta.stateful, ['count', 'inject', 'numbers'], 'collect() keeps no state: the coordinator commits it');
  t.deepEqual(Object.values(meta.tasks).map((x) => (x as { uids: string[] }).uids), [['numbers'], ['count', 'inject', 'out']]);
  t.regex(meta.job, /exactly-once\.ts/);
  t.true(Object.values(meta.maxParallelism as Record<string, number>).every((m) => m === 128));
  t.is(Object.keys(meta.files).length, 4, 'a file per subtask: the source task and the count > inject > collect chain, at parallelism 2');
  writeFileSync(marker, '');
  // The held sources go on once a checkpoint after their first half completes: this one.
  await handle.triggerCheckpoint();
  const r = await handle.done;
  t.true(r.checkpoints.some((c) => c.id === s.id));
});

test('checkpoints that time out fail the job once tolerableFailedCheckpoints are exceeded, with the reason', async (t) => {
  const handle = await submit(job('fail=none&slowSnapshot=40'), options({ checkpointTimeout: 5, tolerableFailedCheckpoints: 1, restartStrategy: 'none' }));
  const err = await t.throwsAsync(handle.done, { instanceOf: WeirError });
  t.regex(err!.message, /checkpoint \d+ failed: it expired after 5 ms \(checkpointTimeout\); 2 failed checkpoint\(s\) in a row exceed tolerableFailedCheckpoints \(1\)/);
  t.true(handle.checkpoints().filter((c) => c.status === 'failed').every((c) => /expired/.test(c.failure!)));
});

/** Runs the held job into `dir` until `count` checkpoints are complete, then cancels it: they are kept. */
async function checkpointsOnDisk(dir: string, count: number): Promise<CheckpointStats[]> {
  const marker = join(dir, 'go');
  let seen = 0;
  let enough!: () => void;
  const reached = new Promise<void>((r) => { enough = r; });
  const handle = await submit(job(`fail=none&hold=${encodeURIComponent(marker)}`),
    options({ checkpointDir: join(dir, 'cp'), retainedCheckpoints: 3 }), { onCheckpoint: (s) => { if (s.status === 'completed' && ++seen === count) enough(); } });
  await reached;
  await handle.cancel();
  return handle.checkpoints().filter((c) => c.status === 'completed');
}

const damages: [string, (chk: string) => string][] = [
  ['a flipped byte in a state file', (chk) => {
    const f = readdirSync(chk).find((n) => n.endsWith('.state'))!;
    const fd = openSync(join(chk, f), 'r+');
    const b = readFileSync(join(chk, f));
    writeSync(fd, Buffer.from([b[b.length - 1]! ^ 0xff]), 0, 1, b.length - 1);
    closeSync(fd);
    return `${f} fails its checksum`;
  }],
  ['truncated metadata', (chk) => { truncateSync(join(chk, '_metadata'), 10); return '_metadata cannot be read'; }],
  ['a missing state file', (chk) => {
    const f = readdirSync(chk).find((n) => n.endsWith('.state'))!;
    rmSync(join(chk, f));
    return `${f} is missing`;
  }],
];

for (const [what, damage] of damages) {
  test(`a checkpoint with ${what} is skipped for the previous one, naming the checkpoint and the file`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-damage-'));
    const done = await checkpointsOnDisk(dir, 3);
    // Complete ones only: the checkpoint in progress at the cancel has no metadata.
    const kept = readdirSync(join(dir, 'cp')).filter((n) => /^chk-\d+$/.test(n) && existsSync(join(dir, 'cp', n, '_metadata')))
      .map((n) => Number(n.slice(4))).sort((a, b) => b - a);
    const newest = kept[0]!;
    t.true(done.some((c) => c.id === newest));
    const said = damage(join(dir, 'cp', `chk-${newest}`));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    writeFileSync(join(dir, 'go'), '');
    const r = await (await submit(job(`fail=none&hold=${encodeURIComponent(join(dir, 'go'))}`), options({ checkpointDir: join(dir, 'cp') }))).done;
    process.off('warning', onWarning);
    t.is(r.restoredFrom?.id, kept[1], 'the one before the damaged checkpoint');
    t.true(warnings.some((w) => w.includes('skipping a damaged checkpoint') && w.includes(`chk-${newest}`) && w.includes(said.split(' ')[0]!)), warnings.join('\n'));
  });
}

test('with one retained checkpoint, a damaged one is an error naming the file, never a silent fresh start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-damage-'));
  await checkpointsOnDisk(dir, 2);
  const chks = readdirSync(join(dir, 'cp')).filter((n) => /^chk-\d+$/.test(n) && existsSync(join(dir, 'cp', n, '_metadata')));
  for (const c of chks.slice(1)) rmSync(join(dir, 'cp', c), { recursive: true });
  const only = join(dir, 'cp', chks[0]!);
  truncateSync(join(only, '_metadata'), 3);
  const err = await t.throwsAsync(submit(job('fail=none'), options({ checkpointDir: join(dir, 'cp') })), { instanceOf: WeirError });
  t.regex(err!.message, /no checkpoint in .*cp can be restored: checkpoint metadata .*chk-\d+\/_metadata cannot be read/);
});

test('a subtask that had ended is not run again on a restore: what its finish() emitted is not emitted twice', async (t) => {
  const r = await (await submit(new URL('../fixtures/jobs/refinish.ts', import.meta.url), options({ parallelism: 1 }))).done;
  t.is(r.restarts, 1);
  t.true(r.restoredFrom !== null);
  const out = r.collected['out'] as number[];
  t.deepEqual(out.filter((v) => v < 0), [-3], 'the ended branch\'s total once');
  t.is(new Set(out.filter((v) => v >= 0)).size, 2000);
  t.is(out.length, 2001);
});

test('a checkpoint directory another running job holds is refused; the lock goes with the job', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-lock-'));
  const marker = join(dir, 'go');
  const first = await submit(job(`fail=none&hold=${encodeURIComponent(marker)}`), options({ checkpointDir: join(dir, 'cp') }));
  // A second job on the directory would write the same chk-<n> and resume from the first one's checkpoints.
  const here = await t.throwsAsync(submit(job('fail=none'), options({ checkpointDir: join(dir, 'cp') })), { instanceOf: WeirError });
  t.regex(here!.message, /checkpoint directory .*cp is in use by another job of this process/);
  t.is(readFileSync(join(dir, 'cp', '_weir.lock'), 'utf8').trim(), String(process.pid));
  writeFileSync(marker, '');
  await first.triggerCheckpoint().catch(() => {});
  await first.done;
  t.false(existsSync(join(dir, 'cp', '_weir.lock')));
});

test('operator state (a list with its redistribution) is checkpointed with the chain and restored before open', async (t) => {
  const r = await (await submit(job('fail=process&topology=opstate'), options())).done;
  t.is(r.restarts, 1);
  t.true(r.restoredFrom !== null && r.restoredFrom.id >= 1);
  const out = r.collected['out'] as Out[];
  const tallies = out.filter((o) => o[0] === -1);
  t.is(tallies.length, 2, 'one tally per subtask');
  t.is(tallies.reduce((n, o) => n + o[2], 0), N, 'the counts went on from the checkpoint: every record counted once');
  t.is(out.length - tallies.length, N);
});

test('a SplitSource: each subtask reads its splits, a checkpoint holds their positions, a restore goes on from them', async (t) => {
  const marker = join(mkdtempSync(join(tmpdir(), 'weir-splits-')), 'go');
  const handle = await submit(new URL(`../fixtures/jobs/splits.ts?hold=${encodeURIComponent(marker)}`, import.meta.url), options({ checkpointInterval: 60_000 }));
  // Every value below 2500 is out before the checkpoint: the sources hold there.
  while (handle.recordsEmitted() < 2500) await new Promise((r) => setTimeout(r, 5));
  const s = await handle.triggerCheckpoint();
  writeFileSync(marker, '');
  const r = await handle.done;
  t.is(r.restarts, 1);
  t.is(r.restoredFrom?.id, s.id);
  t.deepEqual([...(r.collected['out'] as number[])].sort((a, b) => a - b), Array.from({ length: 5000 }, (_, i) => i));
  t.is(r.operators['splits']!.recordsOut, 2500, 'the restored attempt read on from the splits\' positions');
});
