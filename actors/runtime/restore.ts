// What one subtask restores: its own old snapshot where the layout is the same, or every old subtask's share for a rescale.
import type { Codec } from '../../core/codec/codec.ts';
import type { Edge } from '../../core/graph/plan.ts';
import { channelsFor } from './rescale-channels.ts';
import { channelStateFile } from '../../core/checkpoint/channel-state.ts';
import type { ChannelState } from '../../core/checkpoint/channel-state.ts';
import { subtaskKey } from '../../core/coordinator/deploy.ts';
import type { RestoreSpec } from '../../core/coordinator/deploy.ts';
import type { Task } from '../../core/graph/plan.ts';
import type { OperatorStateSnapshot } from '../../core/state/operator-state.ts';
import type { RestoredPart as SpiRestoredPart } from '../../core/api/operator.ts';
import type { SubtaskState } from './subtask.ts';

/** The SPI's part (subtask, parallelism, snapshot; undefined state: it has none) and its operator lists. */
export interface RestoredPart extends SpiRestoredPart {
  readonly lists: OperatorStateSnapshot | undefined;
}

export interface RestoredOperator {
  /** Every old subtask's part (a rescale), or this subtask's own at the same parallelism. */
  readonly rescaled: boolean;
  readonly parts: readonly RestoredPart[];
}

export interface RestoredChain {
  /** Every part was taken after its subtask's end of input: this one ends again at once. */
  readonly finished: boolean;
  /** The old subtask's state as it was, where the chain is the same: a finished subtask's final state is it. */
  readonly whole: SubtaskState | undefined;
  readonly operators: Readonly<Record<string, RestoredOperator>>;
  /** The keyed state and operator lists each uid had registered, as the parts say. */
  readonly descriptors: SubtaskState['descriptors'];
  /** The in-flight frames to replay: this subtask's own channels, and re-routed records of rescaled edges (rescale-channels.ts). */
  readonly channels: ChannelState | undefined;
}

/**
 * The restore of subtask `slot` of `task`. `read` reads an old state file (each once per
 * worker); `readChannels` an old channel state file. Undefined: nothing to restore here.
 */
export function restoredChain(spec: RestoreSpec, task: Task, slot: number, read: (file: string) => SubtaskState,
  readChannels: (file: string) => ChannelState, plan: { readonly edges: readonly Edge[]; readonly codecOf: (e: Edge) => Codec }): RestoredChain | undefined {
  const uids = task.nodes.map((n) => n.uid);
  // In-flight records: by edge, from every old channel state file (rescale-channels.ts).
  const channelsOf = (descriptors: SubtaskState['descriptors']): ChannelState | undefined => {
    if (spec.tasks === undefined) return undefined;
    const old = Object.entries(spec.files).filter(([k]) => k.endsWith('.channels')).map(([, f]) => readChannels(f));
    if (old.length === 0) return undefined;
    const keyedConsumer = uids.some((u) => (descriptors[u] ?? []).some((d) => !d.signature.startsWith('operator-list<')));
    return channelsFor({
      old, tasks: spec.tasks, oldEdges: spec.edges, taskId: task.id, uids, slot, codecOf: plan.codecOf, keyedConsumer, allEdges: plan.edges,
      edges: plan.edges.filter((e) => e.to.id === task.id || uids.includes(e.fromNode.uid)),
    });
  };
  const own = (key: string, parallelism: number): RestoredChain | undefined => {
    const file = spec.files[key];
    if (file === undefined) return undefined;
    const state = read(file);
    const operators: Record<string, RestoredOperator> = {};
    for (const uid of new Set([...Object.keys(state.operators), ...Object.keys(state.operatorState ?? {})])) {
      operators[uid] = { rescaled: false, parts: [{ subtask: slot, parallelism, state: state.operators[uid], lists: state.operatorState?.[uid] }] };
    }
    const channels = spec.files[`${key}/${channelStateFile(key)}`];
    return {
      finished: state.finished === true, whole: state, operators, descriptors: state.descriptors,
      channels: spec.tasks !== undefined ? channelsOf(state.descriptors) : channels === undefined ? undefined : readChannels(channels),
    };
  };
  if (spec.tasks === undefined) return own(subtaskKey(task.id, slot), task.parallelism);
  const oldTaskOf = (uid: string) => Object.entries(spec.tasks!).find(([, t]) => t.uids.includes(uid));
  const first = oldTaskOf(uids[0]!);
  // The same chain at the same parallelism: the old subtask's state as it is, in-flight frames included.
  if (first !== undefined && first[1].parallelism === task.parallelism && first[1].uids.join('\n') === uids.join('\n')) {
    return own(subtaskKey(Number(first[0]), slot), task.parallelism);
  }
  const operators: Record<string, RestoredOperator> = {};
  const descriptors: Record<string, { readonly name: string; readonly signature: string }[]> = {};
  let finished = true;
  let any = false;
  for (const uid of uids) {
    const old = oldTaskOf(uid);
    if (old === undefined) continue;
    const [id, layout] = old;
    const rescaled = layout.parallelism !== task.parallelism;
    const subtasks = rescaled ? Array.from({ length: layout.parallelism }, (_, j) => j) : [slot];
    const parts: RestoredPart[] = [];
    for (const j of subtasks) {
      const key = subtaskKey(Number(id), j);
      const file = spec.files[key];
      if (file === undefined) continue;
      const state = read(file);
      any = true;
      if (state.finished !== true) finished = false;
      parts.push({ subtask: j, parallelism: layout.parallelism, state: state.operators[uid], lists: state.operatorState?.[uid] });
      for (const d of state.descriptors[uid] ?? []) {
        const known = (descriptors[uid] ??= []);
        if (!known.some((k) => k.name === d.name)) known.push(d);
      }
    }
    operators[uid] = { rescaled, parts };
  }
  const channels = channelsOf(descriptors);
  if (!any && channels === undefined) return undefined;
  return { finished: any && finished, whole: undefined, operators, descriptors, channels };
}
