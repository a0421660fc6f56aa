// The logical graph a job module builds: one node per operator, edges carrying a partitioner.
import type { KeySelector } from '../api/functions.ts';

export type PartitionerKind = 'forward' | 'rebalance' | 'rescale' | 'broadcast' | 'keyBy';

export interface Partitioning {
  readonly kind: PartitionerKind;
  readonly keySelector?: KeySelector<unknown, unknown>;
}

export interface NodeInput {
  readonly node: StreamNode;
  /** Side output id, or null for the main output. */
  readonly tag: string | null;
  /** Unset: forward where parallelism matches, rebalance otherwise (as Flink). */
  readonly partitioning: Partitioning | undefined;
  /** Which input of a two-input operator (connect) this is: 2 for the second, else the first. */
  readonly side?: 2;
}

/** A record type declared with `.returns(...)`: anything with a codec descriptor. */
export interface DeclaredType {
  readonly descriptor: string;
}

export interface StreamNode {
  /** Creation order; stable for a given module and options. */
  readonly id: number;
  readonly kind: string;
  name: string;
  userUid: string | undefined;
  /** The user's uid, or a hash of kind, name, input uids and ordinal: set by assignUids. */
  uid: string;
  parallelism: number | undefined;
  readonly inputs: NodeInput[];
  /** Operator-specific settings and user functions, read by the actor that runs it. */
  readonly params: Record<string, unknown>;
  outType: DeclaredType | undefined;
  /** Keyed or operator state: such an operator should carry a user uid (savepoints). */
  readonly stateful: boolean;
  /** Side output ids this node emits to. */
  readonly sideOutputs: Set<string>;
}

/**
 * Whether records leaving `node` carry event timestamps: it assigns them (an assigner, a
 * window), or what it reads carries them. Only such edges pay for timestamps in their frames (DATA_TS).
 */
export function carriesEventTime(node: StreamNode): boolean {
  // A window's results carry its end, whatever its time domain (as in Flink).
  return node.kind === 'timestamps' || node.kind === 'window' || node.inputs.some((i) => carriesEventTime(i.node));
}

export class StreamGraph {
  readonly nodes: StreamNode[] = [];

  add(kind: string, name: string, inputs: NodeInput[], params: Record<string, unknown> = {}, stateful = false): StreamNode {
    const node: StreamNode = {
      id: this.nodes.length, kind, name, userUid: undefined, uid: '', parallelism: undefined, inputs, params,
      outType: undefined, stateful, sideOutputs: new Set(),
    };
    this.nodes.push(node);
    return node;
  }

  consumersOf(node: StreamNode): { node: StreamNode; input: NodeInput }[] {
    const out: { node: StreamNode; input: NodeInput }[] = [];
    for (const n of this.nodes) for (const input of n.inputs) if (input.node === node) out.push({ node: n, input });
    return out;
  }
}
