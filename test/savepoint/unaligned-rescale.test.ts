// Retained unaligned checkpoints, taken under backpressure, restored at another parallelism (as Flink's
// UnalignedCheckpointRescaleITCase): the in-flight records on the edge under test are re-routed, none lost or doubled.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit } from '../../core/index.ts';
import { readChannelState } from '../../core/checkpoint/channel-state.ts';
import { channelsFor, edgeChanged } from '../../actors/runtime/rescale-channels.ts';
import { generalCodec } from '../../core/codec/general.ts';
import type { Edge } from '../../core/graph/plan.ts';
import type { Row } from '../fixtures/jobs/rescale.ts';
import { checkRows, KEYS, N, untilEmitted } from '../helpers/rescale-rows.ts';

const job = (q: string) => new URL(`../fixtures/jobs/rescale.ts?n=${N}&keys=${KEYS}&${q}`, import.meta.url);

function committed(dir: string): Row[] {
  return readdirSync(dir).filter((f) => f.startsWith('part-') && f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row));
}


/** Persisted in-flight bytes per channel of the checkpoint, on channels whose key matches `edge`. */
function persistedOn(chk: string, edge: RegExp): number {
  let n = 0;
  for (const f of readdirSync(chk).filter((x) => x.endsWith('.channels'))) {
    const cs = readChannelState(join(chk, f));
    for (const pc of [...cs.inputs, ...cs.outputs]) if (edge.test(pc.channel)) n += pc.frames.byteLength;
  }
  return n;
}

const cases = [
  { edge: 'keyed', from: 2, to: 3, channel: /^numbers\[\d+\]->count\[\d+\]$/ },
  { edge: 'keyed', from: 3, to: 1, channel: /^numbers\[\d+\]->count\[\d+\]$/ },
  { edge: 'rebalance', from: 3, to: 2, channel: /^numbers\[\d+\]->tally\[\d+\]$/ },
  { edge: 'broadcast', from: 2, to: 3, channel: /^numbers\[\d+\]->tally\[\d+\]$/ },
] as const;

for (const c of cases) {
  test(`an unaligned checkpoint under backpressure with in-flight records on a ${c.edge} edge, restored at ${c.from} -> ${c.to}`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-uc-rescale-'));
    const out = join(dir, 'out');
    const options = { maxParallelism: 16, unaligned: true, ringCapacity: 4096, restartStrategy: 'none' as const };
    const first = await submit(job(`slowUs=400&edge=${c.edge}&out=${out}`), { ...options, parallelism: c.from, checkpointInterval: 60_000, checkpointDir: join(dir, 'ck1') });
    await untilEmitted(first, N / 4);
    const chk = await first.triggerCheckpoint();
    await first.cancel();
    t.is(chk.alignment, 'unaligned');
    const bytes = persistedOn(chk.path, c.channel);
    t.true(bytes > 0, `the checkpoint holds in-flight records on the ${c.edge} edge (${bytes} bytes)`);
    const second = await submit(job(`edge=${c.edge}&out=${out}`), { ...options, parallelism: c.to, checkpointInterval: 100, checkpointDir: join(dir, 'ck2'), fromSavepoint: chk.path });
    const r = await second.done;
    t.deepEqual(r.restoredFrom?.path, chk.path);
    const rows = committed(out);
    if (c.edge === 'keyed') return checkRows(t, rows);
    const ends = rows.filter((x) => x[0] === -2);
    t.is(ends.length, c.to, 'one tally per new subtask');
    const all = N * (N - 1) / 2;
    if (c.edge === 'rebalance') {
      t.is(new Set(rows.filter((x) => x[0] >= 0).map((x) => x[1])).size, N, 'every value processed');
      t.is(rows.filter((x) => x[0] >= 0).length, N, 'and once');
      t.is(ends.reduce((n, x) => n + x[2], 0), N, 'the tallies, split evenly, hold every value once');
      t.is(ends.reduce((n, x) => n + x[3], 0), all);
    } else {
      // Each new subtask k: old subtask (k mod p)'s list, its in-flight records, then the rest: every value once.
      for (const x of ends) t.deepEqual([x[2], x[3]], [N, all], `subtask ${x[1]} saw every value once`);
    }
  });
}

test('in-flight records re-routed by a rescale keep each key\'s order: a gate replays them all before it reads a ring', async (t) => {
  const n = 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'weir-uc-order-'));
  const out = join(dir, 'out');
  const order = (q: string) => new URL(`../fixtures/jobs/keyed-order.ts?n=${n}&${q}`, import.meta.url);
  const options = { maxParallelism: 16, unaligned: true, ringCapacity: 4096, restartStrategy: 'none' as const };
  const first = await submit(order(`slowUs=400&out=${out}`), { ...options, parallelism: 2, checkpointInterval: 60_000, checkpointDir: join(dir, 'ck1') });
  await untilEmitted(first, 3000);
  const chk = await first.triggerCheckpoint();
  await first.cancel();
  t.true(persistedOn(chk.path, /^pass\[\d+\]->count\[\d+\]$/) > 0, 'in flight between the pass and the count');
  // The pass goes 2 -> 3, the count stays at 2: the edge into the count changed at its producer only.
  await (await submit(order(`slowUs=50&out=${out}`), { ...options, parallelism: 3, checkpointInterval: 60_000, checkpointDir: join(dir, 'ck2'), fromSavepoint: chk.path })).done;
  const rows = committed(out) as unknown as [number, number, number][];
  t.is(rows.length, n);
  t.is(new Set(rows.map((r) => r[1])).size, n);
  const byKey = new Map<number, [number, number, number][]>();
  for (const r of rows) byKey.set(r[0], [...(byKey.get(r[0]) ?? []), r]);
  let violations = 0;
  for (const list of byKey.values()) {
    list.sort((a, b) => a[2] - b[2]);
    for (let i = 1; i < list.length; i++) if (list[i]![1] < list[i - 1]![1]) violations++;
  }
  t.is(violations, 0, 'per key, values in the order the source emitted them');
});

test('a broadcast edge into keyed state is refused on a rescale, naming the edge', (t) => {
  const from = { id: 0, parallelism: 3 };
  const to = { id: 1, parallelism: 3, maxParallelism: 16 };
  const e = { id: 0, from, to, fromNode: { uid: 'rules', inputs: [] }, toNode: { uid: 'apply', inputs: [] }, tag: null, partitioner: 'broadcast', codec: 'general' } as unknown as Edge;
  const old = [{ format: 1, frameFormat: 1, inputs: [{ channel: 'rules[0]->apply[1]', codec: generalCodec().descriptor, skip: 0, frames: new Uint8Array(0) }], outputs: [] }];
  const tasks = { 0: { parallelism: 2, maxParallelism: 16, uids: ['rules'] }, 1: { parallelism: 2, maxParallelism: 16, uids: ['apply'] } };
  const call = (keyedConsumer: boolean, edge = e) => channelsFor({
    old, tasks, edges: [edge], allEdges: [edge], taskId: 1, uids: ['apply'], slot: 0, codecOf: () => generalCodec(), keyedConsumer,
  });
  t.throws(() => call(true), { message: /in-flight records on the broadcast edge 'rules' -> 'apply', whose consumer keeps keyed state/ });
  t.notThrows(() => call(false));
  // Only the producer rescaled: new subtask k is old subtask k, no broadcast record can apply twice.
  t.notThrows(() => call(true, { ...e, to: { ...to, parallelism: 2 } } as unknown as Edge));
  // An edge the job no longer has (its ends chained now): refused rather than dropped.
  const withFrames = [{ ...old[0]!, inputs: [{ ...old[0]!.inputs[0]!, frames: new Uint8Array(8) }] }];
  t.throws(() => channelsFor({ old: withFrames, tasks, edges: [], allEdges: [], taskId: 1, uids: ['apply'], slot: 1, codecOf: () => generalCodec(), keyedConsumer: false }),
    { message: /in-flight records on rules\[0\]->apply\[1\], and in this job 'rules' -> 'apply' is no longer a network edge/ });
  // Two edges between one pair (a self-union): their channels share keys, so such a restore is refused.
  t.throws(() => channelsFor({ old: withFrames, tasks, edges: [e], allEdges: [e, { ...e, id: 1 } as Edge], taskId: 1, uids: ['apply'], slot: 1, codecOf: () => generalCodec(), keyedConsumer: false }),
    { message: /which this job connects twice/ });
  // Same parallelism at both ends, another partitioner: the old channels mean other records, so the edge is rescaled.
  const same = { 0: { parallelism: 3, maxParallelism: 16, uids: ['rules'] }, 1: { parallelism: 3, maxParallelism: 16, uids: ['apply'] } };
  const rebalance = { ...e, partitioner: 'rebalance' } as unknown as Edge;
  t.false(edgeChanged(rebalance, same, [{ from: 'rules', to: 'apply', partitioner: 'rebalance' }]));
  t.true(edgeChanged(rebalance, same, [{ from: 'rules', to: 'apply', partitioner: 'keyBy' }]));
  t.false(edgeChanged(rebalance, same), 'a checkpoint that did not record its edges: only parallelism counts');
});
