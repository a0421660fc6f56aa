// Exactly-once across failures, in the manner of Flink's checkpointing IT cases: self-checking records, failures at
// several points, zero lost, zero duplicated, per-key order kept, final state equal to a run without failures.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit } from '../../core/index.ts';
import type { JobResult } from '../../core/index.ts';
import type { Out } from '../fixtures/jobs/exactly-once.ts';

const N = 20_000;
const KEYS = 50;
const job = (query: string) => new URL(`../fixtures/jobs/exactly-once.ts?n=${N}&keys=${KEYS}&${query}`, import.meta.url);
const options = (parallelism: number, stateBackend: 'heap' | 'lmdb') => ({
  parallelism, stateBackend, checkpointInterval: 20, restartStrategy: 'fixed-delay' as const, restartAttempts: 3, restartDelay: 0,
});

/** Which source subtask emitted value v: the sources split their ranges over `parallelism` subtasks in order. */
const sourceOf = (v: number, parallelism: number, union: boolean) => {
  const [offset, size] = union && v >= N / 2 ? [N / 2, N / 2] : [0, union ? N / 2 : N];
  return `${offset}:${Math.floor(((v - offset) * parallelism) / size)}`;
};

/** The committed output of a file sink: every finished part file, none in progress. */
function committed(dir: string): Out[] {
  return readdirSync(dir).filter((f) => f.startsWith('part-') && f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Out));
}

/** Every value once; each key's counts 1, 2, 3, ...; per key, each source subtask's values in their order. */
function check(t: { is(a: unknown, b: unknown, m?: string): void; deepEqual(a: unknown, b: unknown, m?: string): void }, r: JobResult | Out[],
  counted: boolean, parallelism: number, union = false): void {
  const out = Array.isArray(r) ? r : (r.collected['out'] ?? []) as Out[];
  t.is(out.length, N, 'no record lost or duplicated');
  t.deepEqual([...new Set(out.map((o) => o[1]))].length, N, 'every value exactly once');
  if (!counted) return;
  const byKey = new Map<number, Out[]>();
  for (const o of out) byKey.set(o[0], [...(byKey.get(o[0]) ?? []), o]);
  for (const [k, rows] of byKey) {
    rows.sort((a, b) => a[2] - b[2]);
    t.deepEqual(rows.map((r) => r[2]), rows.map((_, i) => i + 1), `key ${k}: counts 1..n, none skipped or repeated`);
    const bySource = new Map<string, number[]>();
    for (const row of rows) bySource.set(sourceOf(row[1], parallelism, union), [...(bySource.get(sourceOf(row[1], parallelism, union)) ?? []), row[1]]);
    for (const [src, values] of bySource) {
      t.deepEqual(values, [...values].sort((a, b) => a - b), `key ${k}: the values of source ${src} in their order`);
    }
  }
}

for (const backend of ['heap', 'lmdb'] as const) {
  for (const parallelism of [1, 2]) {
    for (const [fail, where] of [['process', 'after'], ['process', 'before'], ['snapshot', 'after'], ['restore', 'after'], ['twice', 'after']] as const) {
      test(`${backend} p${parallelism}: a failure ${fail === 'twice' ? 'twice in a row' : `during ${fail}`} (${where} the keyed count) loses and duplicates nothing`, async (t) => {
        const r = await (await submit(job(`fail=${fail}&where=${where}`), options(parallelism, backend))).done;
        t.is(r.restarts, fail === 'twice' || fail === 'restore' ? 2 : 1);
        t.true(r.restoredFrom !== null && r.restoredFrom.id >= 1, 'the last attempt restored a checkpoint');
        t.true(r.checkpoints.some((c) => c.status === 'completed'));
        // Every checkpoint is listed, completed or failed, the one a failure cut short too.
        const ids = r.checkpoints.map((c) => c.id);
        t.deepEqual(ids, ids.map((_, i) => ids[0]! + i), `checkpoint ids without gaps: ${ids.join(' ')}`);
        // One the failure cut short (a snapshot that threw, most often; or the final state's) says why.
        for (const c of r.checkpoints.filter((x) => x.status === 'failed')) t.regex(c.failure ?? '', /injected|expired|declined/, `checkpoint ${c.id}`);
        check(t, r, true, parallelism);
      });
    }
  }
}

for (const topology of ['pipeline', 'union'] as const) {
  test(`${topology} topology at p2: a failure while processing loses and duplicates nothing`, async (t) => {
    const r = await (await submit(job(`fail=process&topology=${topology}`), options(2, 'heap'))).done;
    t.is(r.restarts, 1);
    t.true(r.restoredFrom !== null && r.restoredFrom.id >= 1);
    check(t, r, topology === 'union', 2, topology === 'union');
  });
}

test('without failures: the same output as the failure runs, and checkpoints complete', async (t) => {
  const r = await (await submit(job('fail=none'), options(2, 'lmdb'))).done;
  t.is(r.restarts, 0);
  t.is(r.restoredFrom, null);
  const done = r.checkpoints.filter((c) => c.status === 'completed');
  t.true(done.length >= 1);
  for (const c of done) {
    t.true(c.stateBytes > 0);
    t.is(c.kind, 'checkpoint');
    t.is(c.alignment, 'aligned');
  }
  check(t, r, true, 2);
});

for (const [backend, parallelism] of [['heap', 2], ['lmdb', 1]] as const) {
  test(`${backend} p${parallelism}: a file sink commits each record once across a failure (two-phase commit)`, async (t) => {
    const out = join(mkdtempSync(join(tmpdir(), 'weir-eo-')), 'out');
    const r = await (await submit(job(`fail=process&out=${encodeURIComponent(out)}`), options(parallelism, backend))).done;
    t.is(r.restarts, 1);
    t.true(r.restoredFrom !== null && r.restoredFrom.id >= 1);
    t.deepEqual(readdirSync(out).filter((f) => f.endsWith('.inprogress')), [], 'nothing left in progress: the failed attempt\'s strays are cleared');
    check(t, committed(out), true, parallelism);
    // The manifest names every committed part file once, and nothing else.
    const manifest = readFileSync(join(out, '_weir-manifest.jsonl'), 'utf8').trim().split('\n').flatMap((l) => (JSON.parse(l) as { files: string[] }).files);
    t.deepEqual([...manifest].sort(), readdirSync(out).filter((f) => f.endsWith('.jsonl') && f.startsWith('part-')).sort());
  });
}

test('at-least-once: a failure loses no record', async (t) => {
  const r = await (await submit(job('fail=process'), { ...options(2, 'heap'), checkpointingMode: 'at-least-once' })).done;
  t.is(r.restarts, 1);
  t.true(r.restoredFrom !== null);
  const values = new Set((r.collected['out'] as Out[]).map((o) => o[1]));
  t.is(values.size, N, 'every value at least once');
});

// The same guarantees with unaligned checkpoints (rings small enough that barriers overtake records), through the
// paths the unaligned suite does not take: timers, operator state, a finished source, a two-phase-commit sink.
const unaligned = (parallelism: number, stateBackend: 'heap' | 'lmdb') => ({ ...options(parallelism, stateBackend), unaligned: true, ringCapacity: 4096 });
for (const [backend, parallelism, fail, where] of [['lmdb', 2, 'process', 'before'], ['heap', 2, 'restore', 'after'], ['heap', 1, 'snapshot', 'after']] as const) {
  test(`unaligned ${backend} p${parallelism}: a failure during ${fail} (${where} the keyed count) loses and duplicates nothing`, async (t) => {
    const r = await (await submit(job(`fail=${fail}&where=${where}`), unaligned(parallelism, backend))).done;
    t.is(r.restarts, fail === 'restore' ? 2 : 1);
    t.true(r.checkpoints.some((c) => c.status === 'completed' && c.alignment === 'unaligned'));
    check(t, r, true, parallelism);
  });
}

test('unaligned: a file sink commits each record once across a failure', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'weir-eo-')), 'out');
  const r = await (await submit(job(`fail=process&out=${encodeURIComponent(out)}`), unaligned(2, 'heap'))).done;
  t.is(r.restarts, 1);
  t.deepEqual(readdirSync(out).filter((f) => f.endsWith('.inprogress')), []);
  check(t, committed(out), true, 2);
});

test('unaligned: event-time timers, operator state and a source that ends at once survive a restore', async (t) => {
  const timers = await (await submit(job('fail=process&topology=timers'), unaligned(2, 'lmdb'))).done;
  t.is(timers.restarts, 1);
  t.deepEqual((timers.collected['out'] as Out[]).map((o) => o[2]).sort((a, b) => a - b), Array(KEYS).fill(N / KEYS));
  const opstate = await (await submit(job('fail=process&topology=opstate'), unaligned(2, 'heap'))).done;
  const tallies = (opstate.collected['out'] as Out[]).filter((o) => o[0] === -1);
  t.is(tallies.reduce((n, o) => n + o[2], 0), N, 'every record counted once in operator state');
  const mixed = await (await submit(job('fail=process&topology=mixed'), unaligned(2, 'heap'))).done;
  t.is((mixed.collected['out'] as Out[]).length, N + 10);
});
