// The physical plan: forward edges of equal parallelism chained into tasks, network edges between tasks.
import { WeirError } from '../errors.ts';
import { defaultMaxParallelism } from '../keys/key-groups.ts';
import type { JobOptions } from '../options.ts';
import type { PartitionerKind, StreamGraph, StreamNode } from './stream-graph.ts';
import { crypto } from '../lazy-builtins.ts';

export interface Task {
  readonly id: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** The head first; every other node is chained (direct calls) to one before it. */
  readonly nodes: StreamNode[];
}

export interface Edge {
  readonly id: number;
  readonly from: Task;
  readonly fromNode: StreamNode;
  readonly tag: string | null;
  readonly to: Task;
  readonly toNode: StreamNode;
  readonly partitioner: PartitionerKind;
  /** Codec descriptor of the records on this edge: the declared type, or 'general'. */
  readonly codec: string;
  /** The consumer's input it feeds: 2 for a two-input operator's second (connect), else 1. */
  readonly input: 1 | 2;
}

export interface JobPlan {
  readonly tasks: Task[];
  readonly edges: Edge[];
  /** Worker threads needed: the highest parallelism (slot sharing, as Flink). */
  readonly slots: number;
  /** Node uid -> task. */
  readonly taskOf: Map<string, Task>;
  /** One line per node describing everything workers must agree on. */
  readonly signatures: string[];
  readonly fingerprint: string;
}

export function parallelismOf(node: StreamNode, options: JobOptions): number {
  const fixed = node.params['fixedParallelism'];
  if (typeof fixed === 'number') {
    if (node.parallelism !== undefined && node.parallelism !== fixed) {
      throw new WeirError(`${node.kind} runs at parallelism ${fixed}, not ${node.parallelism}`, { uid: node.uid });
    }
    return fixed;
  }
  return node.parallelism ?? options.parallelism;
}

export function plan(graph: StreamGraph, options: JobOptions): JobPlan {
  const tasks: Task[] = [];
  const edges: Edge[] = [];
  const taskOf = new Map<string, Task>();
  for (const node of graph.nodes) {
    const p = parallelismOf(node, options);
    const only = node.inputs.length === 1 ? node.inputs[0]! : undefined;
    const upstream = only !== undefined ? taskOf.get(only.node.uid)! : undefined;
    const kind = only?.partitioning?.kind;
    if (kind === 'forward' && upstream !== undefined && upstream.parallelism !== p) {
      throw new WeirError(
        `forward partitioning needs equal parallelism, but the input runs at ${upstream.parallelism} and this operator at ${p}`,
        { uid: node.uid });
    }
    if (upstream !== undefined && (kind === undefined || kind === 'forward') && upstream.parallelism === p
      && !only!.node.kind.startsWith('sink:')) {
      upstream.nodes.push(node);
      taskOf.set(node.uid, upstream);
      continue;
    }
    const task: Task = {
      id: tasks.length, parallelism: p, nodes: [node],
      maxParallelism: options.maxParallelism ?? defaultMaxParallelism(p),
    };
    if (task.maxParallelism < p) {
      throw new WeirError(`maxParallelism ${task.maxParallelism} is below the parallelism ${p}`, { uid: node.uid });
    }
    tasks.push(task);
    taskOf.set(node.uid, task);
    for (const input of node.inputs) {
      const from = taskOf.get(input.node.uid)!;
      const partitioner: PartitionerKind = input.partitioning?.kind ?? (from.parallelism === p ? 'forward' : 'rebalance');
      edges.push({
        id: edges.length, from, fromNode: input.node, tag: input.tag, to: task, toNode: node, partitioner,
        codec: input.tag === null ? input.node.outType?.descriptor ?? 'general' : 'general', input: input.side ?? 1,
      });
    }
  }
  const signatures = graph.nodes.map((n) => {
    const t = taskOf.get(n.uid)!;
    const ins = n.inputs.map((i) => `${i.side === 2 ? '2:' : ''}${i.node.uid}${i.tag !== null ? `#${i.tag}` : ''}:${i.partitioning?.kind ?? 'default'}`);
    return `${n.uid} ${n.kind} '${n.name}' p=${parallelismOf(n, options)} maxp=${t.maxParallelism} task=${t.id} `
      + `in=[${ins.join(',')}] out=${n.outType?.descriptor ?? 'general'}`;
  });
  // Computed when asked (the coordinator asks; a worker thread, which plans too, does not, and so
  // never loads node:crypto: ~6 ms of its cold start).
  let fingerprint: string | undefined;
  return {
    tasks, edges, slots: Math.max(...tasks.map((t) => t.parallelism)), taskOf, signatures,
    get fingerprint() {
      return fingerprint ??= crypto().createHash('sha256').update(signatures.join('\n')).digest('hex').slice(0, 16);
    },
  };
}

/** Compares a worker's plan with the coordinator's; the error names the first operator that differs. */
export function compareSignatures(coordinator: readonly string[], worker: readonly string[]): string | null {
  const n = Math.max(coordinator.length, worker.length);
  for (let i = 0; i < n; i++) {
    if (coordinator[i] !== worker[i]) {
      return `the job graph built in a worker differs from the coordinator's at operator ${i}: `
        + `coordinator has ${coordinator[i] ?? 'nothing'}, worker has ${worker[i] ?? 'nothing'}`;
    }
  }
  return null;
}
