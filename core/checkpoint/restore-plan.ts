// Checks a checkpoint or savepoint against the job about to start from it: operator uids, key groups, layout.
import { WeirError } from '../errors.ts';
import type { JobPlan } from '../graph/plan.ts';
import type { EdgeLayout, TaskLayout } from '../coordinator/deploy.ts';
import type { CheckpointMetadata, RestorableCheckpoint } from './storage.ts';

/** The tasks of a plan as a checkpoint records them. */
export function layoutOf(p: JobPlan): Record<string, TaskLayout> {
  return Object.fromEntries(p.tasks.map((t) => [String(t.id), { parallelism: t.parallelism, maxParallelism: t.maxParallelism, uids: t.nodes.map((n) => n.uid) }]));
}

/** The network edges of a plan as a checkpoint records them: the channel key's producer part, the consumer, the partitioner. */
export function edgeLayoutOf(p: JobPlan): EdgeLayout[] {
  return p.edges.map((e) => ({ from: `${e.fromNode.uid}${e.tag === null ? '' : `#${e.tag}`}`, to: e.toNode.uid, partitioner: e.partitioner }));
}

/** Uids with keyed state (not only operator lists) in a checkpoint: their key groups are fixed. */
function keyedUids(m: CheckpointMetadata): string[] {
  return Object.entries(m.state).filter(([, list]) => list.some((d) => !d.signature.startsWith('operator-list<'))).map(([uid]) => uid);
}

/**
 * The maxParallelism a job restored from `m` must run with: the checkpoint's, fixed at the
 * job's first run. `given` is the option as set (undefined: Flink's default, which then
 * yields to the checkpoint's). A different value set explicitly is refused, naming it.
 */
export function restoredMaxParallelism(m: CheckpointMetadata, given: number | undefined, where: string): number | undefined {
  const tasks = m.tasks;
  if (tasks === undefined) return given;
  const keyed = new Set(keyedUids(m));
  const values = new Set<number>();
  for (const t of Object.values(tasks)) if (t.uids.some((u) => keyed.has(u))) values.add(t.maxParallelism);
  if (values.size === 0) return given;
  if (values.size > 1) {
    if (given !== undefined) throw new WeirError(`option 'maxParallelism' is ${given}, but ${where} has keyed state with maxParallelism ${[...values].join(' and ')}`, { unrecoverable: true });
    return given;
  }
  const saved = [...values][0]!;
  if (given !== undefined && given !== saved) {
    throw new WeirError(`option 'maxParallelism' is ${given}, but ${where} has keyed state in ${saved} key groups: maxParallelism is fixed at a job's `
      + `first run (leave it unset, or set it to ${saved})`, { unrecoverable: true });
  }
  return saved;
}

/**
 * What a job restored from `from` cannot take: state of uids the job no longer has (refused
 * unless `allowNonRestoredState`; the skipped uids are returned for a warning), and a keyed
 * operator whose key groups differ. Checkpoints of earlier versions carry no layout: they
 * restore only into the same plan.
 */
export function checkRestore(from: RestorableCheckpoint, p: JobPlan, allowNonRestoredState: boolean): { skipped: string[] } {
  const m = from.metadata;
  const where = `${m.kind ?? 'checkpoint'} ${m.id} (${from.path})`;
  if (m.tasks === undefined) {
    if (m.fingerprint !== p.fingerprint) {
      throw new WeirError(`${where} was written by an earlier version of weir, which did not record the job's layout: it restores only into the `
        + `same job at the same parallelism (plan ${m.fingerprint}; this job is ${p.fingerprint})`, { unrecoverable: true });
    }
    return { skipped: [] };
  }
  const uids = new Set(p.tasks.flatMap((t) => t.nodes.map((n) => n.uid)));
  const stateful = m.stateful ?? Object.values(m.tasks).flatMap((t) => t.uids);
  const missing = stateful.filter((u) => !uids.has(u));
  if (missing.length > 0 && !allowNonRestoredState) {
    throw new WeirError(`${where} holds state of operator${missing.length > 1 ? 's' : ''} ${missing.map((u) => `'${u}'`).join(', ')}, which this job does not have `
      + `(matched by uid): give the operator its old uid, or set allowNonRestoredState (--allow-non-restored-state) to start without that state`,
    { unrecoverable: true });
  }
  for (const uid of keyedUids(m)) {
    const old = Object.values(m.tasks).find((t) => t.uids.includes(uid));
    const now = p.taskOf.get(uid);
    if (old === undefined || now === undefined) continue;
    if (old.maxParallelism !== now.maxParallelism) {
      throw new WeirError(`operator '${uid}' has keyed state in ${old.maxParallelism} key groups in ${where}, and this job gives it `
        + `${now.maxParallelism} (maxParallelism is fixed at a job's first run)`, { uid, unrecoverable: true });
    }
  }
  return { skipped: missing };
}
