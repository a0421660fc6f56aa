// In-flight records of an unaligned checkpoint, restored into a job whose edge endpoints changed parallelism.
//
// An edge is unchanged when its producer and its consumer run at the parallelism they ran at:
// its channels are the old ones (channel keys name uids and subtasks), and each side replays
// what it persisted, as at the same parallelism. On a changed edge the old channels are gone,
// so every frame persisted on it, both sides, goes to the new consumers: per old producer j, in
// order, each old consumer i's input side of j->i and then j's output side of j->i, decoded,
// and re-routed: by key group on keyBy edges, dealt round-robin on the others; on broadcast
// edges new subtask k takes old consumer (k mod p)'s channels whole, with its operator state.
// Watermarks and ends of partition are dropped (the operators' watermarks come back with
// their state; a live channel never sees an old end). What a new consumer gets is replayed
// before its new input.
import type { ChannelState, PersistedChannel } from '../../core/checkpoint/channel-state.ts';
import { FrameBuffer, FrameQueue } from '../../core/checkpoint/channel-state.ts';
import { FrameKind, stampedPayload } from '../../core/channel/frames.ts';
import type { Codec } from '../../core/codec/codec.ts';
import type { EdgeLayout, TaskLayout } from '../../core/coordinator/deploy.ts';
import { WeirError } from '../../core/errors.ts';
import { channelKey, targetsOf } from '../../core/graph/channels.ts';
import type { Edge } from '../../core/graph/plan.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { keyGroupOf, operatorIndexForKeyGroup } from '../../core/keys/key-groups.ts';

const RECORDS_PER_FRAME = 256;

/** Old parallelism of a uid's task, or undefined where the old job did not have it. */
function oldParallelism(tasks: Readonly<Record<string, TaskLayout>>, uid: string): number | undefined {
  return Object.values(tasks).find((t) => t.uids.includes(uid))?.parallelism;
}

/**
 * Whether an edge's old channels are gone: one of its ends runs at another parallelism, or
 * its partitioner changed (a channel j->i then means another set of records).
 */
export function edgeChanged(e: Edge, tasks: Readonly<Record<string, TaskLayout>>, edges?: readonly EdgeLayout[]): boolean {
  const p = oldParallelism(tasks, e.fromNode.uid);
  const c = oldParallelism(tasks, e.toNode.uid);
  if (p === undefined || c === undefined) return false;
  const old = edges?.find((x) => x.from === prefixOf(e) && x.to === e.toNode.uid);
  return p !== e.from.parallelism || c !== e.to.parallelism || (old !== undefined && old.partitioner !== e.partitioner);
}

const KEY = /^(.*)\[(\d+)\]->(.*)\[(\d+)\]$/;

function parse(key: string): { from: string; j: number; to: string; i: number } | null {
  const m = KEY.exec(key);
  return m === null ? null : { from: m[1]!, j: Number(m[2]), to: m[3]!, i: Number(m[4]) };
}

const prefixOf = (e: Edge) => `${e.fromNode.uid}${e.tag === null ? '' : `#${e.tag}`}`;

/**
 * What subtask `slot` replays of the old channel states `old`: on unchanged edges its own
 * channels' persisted frames (inputs) and those its barriers overtook (outputs), on changed
 * input edges the re-routed records, one entry per new channel.
 */
export function channelsFor(o: {
  readonly old: readonly ChannelState[];
  readonly tasks: Readonly<Record<string, TaskLayout>>;
  /** The old job's edges and partitioners (absent for checkpoints that did not record them). */
  readonly oldEdges?: readonly EdgeLayout[];
  readonly edges: readonly Edge[];
  /** Every network edge of the job: in-flight records on one it no longer has are refused. */
  readonly allEdges: readonly Edge[];
  readonly taskId: number;
  readonly uids: readonly string[];
  readonly slot: number;
  readonly codecOf: (e: Edge) => Codec;
  /** Whether the old job had keyed state in the consumer's chain (a broadcast edge into it cannot be rescaled). */
  readonly keyedConsumer: boolean;
}): ChannelState | undefined {
  const inputs: PersistedChannel[] = [];
  const outputs: PersistedChannel[] = [];
  const all = o.old.flatMap((cs) => [...cs.inputs.map((pc) => ({ pc, side: 0 })), ...cs.outputs.map((pc) => ({ pc, side: 1 }))]);
  // In-flight records into this chain on an edge the job no longer has (its ends are chained
  // now, or its producer is gone): no channel can take them, and dropping them loses records.
  for (const x of all) {
    const k = parse(x.pc.channel);
    if (k === null || !o.uids.includes(k.to) || x.pc.frames.byteLength === 0) continue;
    if (!o.allEdges.some((e) => prefixOf(e) === k.from && e.toNode.uid === k.to)) {
      throw new WeirError(`the checkpoint holds in-flight records on ${x.pc.channel}, and in this job '${k.from.split('#')[0]}' -> '${k.to}' is no `
        + `longer a network edge (chained now, or its producer is gone): restore it with the layout it was taken with, or from a savepoint`,
      { uid: k.to, subtask: o.slot, unrecoverable: true });
    }
  }
  for (const e of o.edges) {
    const from = prefixOf(e);
    const to = e.toNode.uid;
    const onEdge = all.map((x) => ({ ...x, k: parse(x.pc.channel) })).filter((x) => x.k !== null && x.k.from === from && x.k.to === to);
    if (onEdge.length === 0) continue;
    const intoHere = e.to.id === o.taskId;
    // Two edges between one pair (a self-union) share channel keys: their frames cannot be told apart.
    if (o.allEdges.filter((x) => prefixOf(x) === from && x.toNode.uid === to).length > 1) {
      throw new WeirError(`the checkpoint holds in-flight records on '${from}' -> '${to}', which this job connects twice (a union of a stream `
        + `with itself): its channels cannot be told apart; restore from a savepoint (aligned)`, { uid: to, subtask: o.slot, unrecoverable: true });
    }
    if (!edgeChanged(e, o.tasks, o.oldEdges)) {
      for (const x of onEdge) {
        if (intoHere && x.side === 0 && x.k!.i === o.slot) inputs.push(x.pc);
        if (o.uids.includes(e.fromNode.uid) && x.side === 1 && x.k!.j === o.slot) outputs.push(x.pc);
      }
      continue;
    }
    if (!intoHere) continue;
    const oldConsumers = oldParallelism(o.tasks, to)!;
    if (e.partitioner === 'broadcast' && o.keyedConsumer && oldConsumers !== e.to.parallelism) {
      throw new WeirError(`the checkpoint holds in-flight records on the broadcast edge '${from}' -> '${to}', whose consumer keeps keyed `
        + `state: restored at another parallelism, a broadcast record would be applied to some keys twice or not at all (Flink turns `
        + `unaligned checkpoints off there); restore at the same parallelism, or from a savepoint`, { uid: to, subtask: o.slot, unrecoverable: true });
    }
    inputs.push(...reroute(e, onEdge.map((x) => ({ pc: x.pc, side: x.side, j: x.k!.j, i: x.k!.i })), oldConsumers, o.slot, o.codecOf(e)));
  }
  if (inputs.length === 0 && outputs.length === 0) return undefined;
  const first = o.old[0]!;
  return { format: first.format, frameFormat: first.frameFormat, inputs, outputs };
}

/** The records of a changed edge that new consumer `slot` takes, in frames on its channels of that edge. */
function reroute(e: Edge, entries: { pc: PersistedChannel; side: number; j: number; i: number }[], oldConsumers: number,
  slot: number, codec: Codec): PersistedChannel[] {
  const producers = Array.from({ length: e.from.parallelism }, (_, j) => j).filter((j) => targetsOf(e.partitioner, e.from.parallelism, e.to.parallelism, j).includes(slot));
  if (producers.length === 0) return [];
  const byChannel = new Map<string, FrameBuffer>();
  const oldProducers = [...new Set(entries.map((x) => x.j))].sort((a, b) => a - b);
  const keySelector = e.toNode.inputs.find((i) => i.node === e.fromNode)?.partitioning?.keySelector;
  const maxParallelism = e.to.maxParallelism;
  for (const j of oldProducers) {
    // Old producer j's records in their order: each consumer's input side, then what j's barrier overtook.
    const mine = entries.filter((x) => x.j === j && (e.partitioner !== 'broadcast' || x.i === slot % oldConsumers))
      .sort((a, b) => a.i - b.i || a.side - b.side);
    const target = channelKey(e, producers[j % producers.length]!, slot);
    const out = byChannel.get(target) ?? new FrameBuffer();
    byChannel.set(target, out);
    let dealt = 0;
    let batch: unknown[] = [];
    // Timestamps of the batch's records, when they came in DATA_TS frames (a batch holds one kind).
    let stamps: number[] | null = null;
    const flush = () => {
      if (batch.length === 0) return;
      const bytes = codec.encode(batch, 0, batch.length);
      if (stamps === null) out.appendFrame(FrameKind.DATA, batch.length, bytes);
      else out.appendFrame(FrameKind.DATA_TS, batch.length, stampedPayload(stamps, 0, stamps.length, bytes));
      batch = [];
      stamps = null;
    };
    for (const { pc } of mine) {
      if (pc.codec !== codec.descriptor) {
        throw new WeirError(`the checkpoint's in-flight records on ${pc.channel} were written with codec ${pc.codec}; this job reads the edge with ${codec.descriptor}`);
      }
      const q = new FrameQueue(pc.frames, pc.skip);
      for (; q.next(); q.consume()) {
        if (q.kind !== FrameKind.DATA && q.kind !== FrameKind.DATA_TS) continue;
        let skip = q.skip;
        const stamped = q.kind === FrameKind.DATA_TS;
        if (stamped !== (stamps !== null)) flush();
        let payload = q.payload();
        const times = stamped ? new DataView(payload.buffer, payload.byteOffset, q.count * 8) : null;
        if (stamped) payload = payload.subarray(q.count * 8);
        let index = -1;
        codec.decode(payload, q.count, (r) => {
          index++;
          if (skip > 0) { skip--; return; }
          let takes: boolean;
          if (e.partitioner === 'broadcast') takes = true;
          else if (e.partitioner === 'keyBy') takes = operatorIndexForKeyGroup(maxParallelism, e.to.parallelism, keyGroupOf(keySelector!(r) as Key, maxParallelism)) === slot;
          else takes = dealt++ % e.to.parallelism === slot;
          if (!takes) return;
          if (times !== null) (stamps ??= []).push(times.getFloat64(index * 8, true));
          batch.push(r);
          if (batch.length >= RECORDS_PER_FRAME) flush();
        });
      }
    }
    flush();
  }
  return [...byChannel].filter(([, b]) => b.byteLength > 0).map(([channel, b]) => ({ channel, codec: codec.descriptor, skip: 0, frames: b.bytes() }));
}
