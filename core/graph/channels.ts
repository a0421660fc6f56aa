// Which consumer subtasks each producer subtask of an edge is connected to, by partitioner.
import type { PartitionerKind } from './stream-graph.ts';

/**
 * forward: i -> i. rescale: producers and consumers split into contiguous groups, so each
 * producer feeds a local subset (Flink's POINTWISE pattern). Every other partitioner
 * connects each producer to every consumer.
 */
export function targetsOf(partitioner: PartitionerKind, pFrom: number, pTo: number, i: number): number[] {
  if (partitioner === 'forward') return [i];
  if (partitioner === 'rescale') {
    if (pFrom >= pTo) return [Math.floor((i * pTo) / pFrom)];
    const out: number[] = [];
    for (let j = 0; j < pTo; j++) if (Math.floor((j * pFrom) / pTo) === i) out.push(j);
    return out;
  }
  return Array.from({ length: pTo }, (_, j) => j);
}

export function ringKey(edgeId: number, from: number, to: number): string {
  return `${edgeId}:${from}:${to}`;
}

/**
 * How persisted channel state names a channel: the producing operator's uid and output
 * (side output tag), the consuming operator's uid, and the two subtasks. Stable across
 * changes to the job that leave these alone, unlike edge ids, which follow creation order.
 */
export function channelKey(e: { fromNode: { uid: string }; tag: string | null; toNode: { uid: string } }, from: number, to: number): string {
  return `${e.fromNode.uid}${e.tag === null ? '' : `#${e.tag}`}[${from}]->${e.toNode.uid}[${to}]`;
}

export function collectRingKey(uid: string, subtask: number): string {
  return `collect:${uid}:${subtask}`;
}

/** Every (edge, producer, consumer) ring a plan needs. */
export function ringKeysOf(edges: readonly { id: number; partitioner: PartitionerKind; from: { parallelism: number }; to: { parallelism: number } }[]): string[] {
  const keys: string[] = [];
  for (const e of edges) {
    for (let i = 0; i < e.from.parallelism; i++) {
      for (const j of targetsOf(e.partitioner, e.from.parallelism, e.to.parallelism, i)) keys.push(ringKey(e.id, i, j));
    }
  }
  return keys;
}
