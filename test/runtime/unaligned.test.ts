// Unaligned checkpoints in the manner of Flink's UnalignedCheckpointITCase: a slow sink backpressures the job,
// checkpoints every 100 ms, a mapper fails between checkpoints, right after a barrier, or while channel state is
// replayed; zero lost, zero duplicated, per-channel order kept, and the restored checkpoint held in-flight bytes.
import test from 'ava';
import { submit } from '../../core/index.ts';
import type { JobResult } from '../../core/index.ts';
import type { Out } from '../fixtures/jobs/unaligned.ts';

/** A cap only: sources end three checkpoints into the attempt that no longer fails. */
const N = 100_000;
const KEYS = 16;
const job = (query: string, n = N) => new URL(`../fixtures/jobs/unaligned.ts?n=${n}&keys=${KEYS}&sinkUs=200&${query}`, import.meta.url);
const options = (parallelism: number, stateBackend: 'heap' | 'lmdb', extra: Record<string, unknown> = {}) => ({
  parallelism, stateBackend, checkpointInterval: 100, unaligned: true, ringCapacity: 16 * 1024,
  restartStrategy: 'fixed-delay' as const, restartAttempts: 3, restartDelay: 0, ...extra,
});

type Assert = { is(a: unknown, b: unknown, m?: string): void; true(a: boolean, m?: string): void; deepEqual(a: unknown, b: unknown, m?: string): void };

/** Every record once (once per mapper subtask through a broadcast), and each channel's records in their order. */
function check(t: Assert, r: JobResult, topology: string, parallelism: number): void {
  const out = (r.collected['out'] ?? []) as Out[];
  // Each source subtask's sequence numbers 0..last, each once (once per mapper subtask through a broadcast).
  const streams = new Map<string, number[]>();
  for (const o of out) {
    const s = topology === 'broadcast' ? `${o[0]}:${o[2]}` : `${o[0]}`;
    (streams.get(s) ?? streams.set(s, []).get(s)!).push(o[1]);
  }
  const sources = topology === 'union' ? 2 : 1;
  t.is(streams.size, parallelism * sources * (topology === 'broadcast' ? parallelism : 1), 'every source subtask (and mapper, for broadcast) delivered');
  for (const [s, seqs] of streams) {
    seqs.sort((a, b) => a - b);
    const gaps = seqs.filter((v, i) => v !== i).length;
    t.is(gaps, 0, `stream ${s}: ${seqs.length} records, 0..${seqs.length - 1} each once, none lost or duplicated`);
  }
  if (topology === 'keyed') {
    // Per key: counts 1..n in order, and each (source, mapper) channel's records in their order.
    const byKey = new Map<number, Out[]>();
    for (const o of out) byKey.set(o[1] % KEYS, [...(byKey.get(o[1] % KEYS) ?? []), o]);
    for (const [k, rows] of byKey) {
      rows.sort((a, b) => a[4] - b[4]);
      t.deepEqual(rows.map((x) => x[4]), rows.map((_, i) => i + 1), `key ${k}: counts 1..n`);
      const last = new Map<string, number>();
      for (const x of rows) {
        const ch = `${x[0]}:${x[2]}`;
        t.true((last.get(ch) ?? -1) < x[1], `key ${k}: channel ${ch} in order`);
        last.set(ch, x[1]);
      }
    }
    return;
  }
  // Source subtask -> mapper subtask -> sink subtask: one path of channels, whose order is kept.
  const last = new Map<string, number>();
  let disorder = 0;
  for (const o of out) {
    const ch = `${o[0]}:${o[2]}:${o[3]}`;
    if ((last.get(ch) ?? -1) >= o[1]) disorder++;
    last.set(ch, o[1]);
  }
  t.is(disorder, 0, 'per-channel order kept');
}

/** The checkpoint the last attempt restored held persisted in-flight bytes, and checkpoints ran unaligned. */
function restoredInFlight(t: Assert, r: JobResult): void {
  t.true(r.restoredFrom !== null, 'the last attempt restored a checkpoint');
  const restored = r.checkpoints.find((c) => c.id === r.restoredFrom!.id);
  t.true(restored !== undefined && restored.persistedBytes > 0, `checkpoint ${r.restoredFrom?.id} held in-flight bytes (${restored?.persistedBytes})`);
  t.true(r.checkpoints.some((c) => c.status === 'completed' && c.alignment === 'unaligned'));
}

const matrix: [topology: string, parallelism: number, backend: 'heap' | 'lmdb', fail: string, typed?: 'typed'][] = [
  ['pipeline', 1, 'heap', 'process'], ['pipeline', 2, 'heap', 'process'], ['pipeline', 2, 'heap', 'barrier'], ['pipeline', 2, 'lmdb', 'replay'],
  ['union', 2, 'heap', 'process'], ['union', 1, 'lmdb', 'barrier'],
  ['keyed', 1, 'lmdb', 'process'], ['keyed', 2, 'heap', 'barrier'], ['keyed', 2, 'lmdb', 'replay'], ['keyed', 2, 'lmdb', 'process'],
  ['broadcast', 2, 'heap', 'process'], ['broadcast', 2, 'lmdb', 'replay'],
  ['rescale', 2, 'heap', 'process'], ['rescale', 1, 'heap', 'replay'],
  // Fixed-size schema records, encoded into their frames as they are emitted (record-writer.ts, staging).
  ['pipeline', 2, 'heap', 'replay', 'typed'], ['keyed', 2, 'lmdb', 'barrier', 'typed'],
];

for (const [topology, parallelism, backend, fail, typed] of matrix) {
  const what = fail === 'process' ? 'between checkpoints' : fail === 'barrier' ? 'right after a barrier' : 'again while channel state is replayed';
  test(`${topology} ${backend} p${parallelism}${typed === undefined ? '' : ', typed records'}: a failure ${what} loses and duplicates nothing`, async (t) => {
    const r = await (await submit(job(`topology=${topology}&fail=${fail}${typed === undefined ? '' : '&typed=1'}`), options(parallelism, backend))).done;
    t.is(r.restarts, fail === 'replay' ? 2 : 1);
    restoredInFlight(t, r);
    check(t, r, topology, parallelism);
  });
}

test('without failures: unaligned checkpoints under backpressure persist in-flight bytes, the output is whole', async (t) => {
  const r = await (await submit(job('topology=keyed&fail=none'), options(2, 'lmdb'))).done;
  t.is(r.restarts, 0);
  const done = r.checkpoints.filter((c) => c.status === 'completed' && c.alignment === 'unaligned');
  t.true(done.some((c) => c.persistedBytes > 0));
  for (const c of done) {
    const subtasks = Object.values(c.subtasks ?? {});
    t.is(subtasks.reduce((n, s) => n + s.persistedBytes, 0), c.persistedBytes, 'the total is the sum over subtasks');
  }
  check(t, r, 'keyed', 2);
});

test('alignedCheckpointTimeout: checkpoints align while there is no backpressure, and switch once there is', async (t) => {
  // The first 600 records of each source subtask trickle in (1000 per second); the next 200 cost the sink 10 ms
  // each, so a barrier behind them waits about a second, twice the timeout; without backpressure a barrier crosses
  // the job in milliseconds, well within it even on a loaded machine. The sources run on until two checkpoints
  // completed after their first half: sources that had ended at once (all their records in rings and overdrafts)
  // left the mapper's inputs finished, and it took the next checkpoints itself, unaligned, before any could switch.
  const r = await (await submit(job('topology=pipeline&fail=none&throttle=5&half=600&slowFor=200&slowUs=10000&end=second-half'),
    options(2, 'heap', { alignedCheckpointTimeout: 500, ringCapacity: 4096 }))).done;
  // A checkpoint that only finished subtasks stand in for took no alignment at all: left out.
  const taken = r.checkpoints.filter((c) => c.status === 'completed' && Object.keys(c.subtasks ?? {}).length > 0);
  const kinds = taken.map((c) => c.alignment).join(' ');
  t.true(taken.some((c) => c.alignment === 'aligned'), `some stayed aligned: ${kinds}`);
  t.true(taken.some((c) => c.alignment === 'switched'), `some switched: ${kinds}`);
  t.true(taken.filter((c) => c.alignment === 'aligned').every((c) => c.persistedBytes === 0), 'an aligned one persists nothing');
  t.is(r.restarts, 0);
  check(t, r, 'pipeline', 2);
});

test('unaligned needs exactly-once', async (t) => {
  await t.throwsAsync(async () => (await submit(job('fail=none'), { ...options(1, 'heap'), checkpointingMode: 'at-least-once' })).done,
    { message: /option 'unaligned' needs checkpointingMode 'exactly-once'/ });
});

test('a checkpoint aborted while a subtask still gathers in-flight frames does not hold up the ones after it', async (t) => {
  // The first checkpoints run into the workers' start-up and time out, some while subtasks gather channel state.
  const r = await (await submit(job('topology=keyed&fail=none&end=n', 15_000),
    options(2, 'heap', { checkpointInterval: 30, checkpointTimeout: 100, tolerableFailedCheckpoints: 1_000_000 }))).done;
  const firstFailed = r.checkpoints.findIndex((c) => c.status === 'failed');
  t.true(firstFailed >= 0, 'a checkpoint timed out');
  t.true(r.checkpoints.slice(firstFailed + 1).filter((c) => c.status === 'completed' && Object.keys(c.subtasks ?? {}).length > 0).length >= 1,
    r.checkpoints.map((c) => `${c.id}:${c.status}`).join(' '));
  check(t, r, 'keyed', 2);
});

test('once its inputs\' producers have finished, a subtask takes checkpoints itself, its in-flight frames (ends included) persisted', async (t) => {
  // Sources end early; the 1 ms/record sink still has rings full of records whose producers have finished.
  const r = await (await submit(job('topology=pipeline&fail=none&end=n&half=0&slowUs=1000', 600), options(2, 'heap'))).done;
  const all = 3 * 2;
  const tail = r.checkpoints.filter((c) => c.status === 'completed' && Object.keys(c.subtasks ?? {}).length > 0 && Object.keys(c.subtasks ?? {}).length < all);
  t.true(tail.some((c) => c.persistedBytes > 0), r.checkpoints.map((c) => `${c.id}:${Object.keys(c.subtasks ?? {}).length}:${c.persistedBytes}`).join(' '));
  check(t, r, 'pipeline', 2);
});

test('a failure in the tail restores a checkpoint that holds the ends of finished inputs, and loses nothing', async (t) => {
  const r = await (await submit(job('topology=pipeline&fail=tail&end=n&half=0&slowUs=1000', 600), options(2, 'heap'))).done;
  t.is(r.restarts, 1);
  restoredInFlight(t, r);
  check(t, r, 'pipeline', 2);
});
