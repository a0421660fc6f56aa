// The sink SPI for exactly-once output: two-phase commit driven by checkpoints, as Flink's TwoPhaseCommittingSink.
import { WeirError } from '../errors.ts';
import type { OperatorContext } from './operator.ts';

/**
 * A sink whose output becomes visible only with the checkpoint that covers it. One
 * instance per subtask; every call comes from the subtask's thread.
 *
 * - `write` takes records into the current transaction.
 * - `prepareCommit(id)` at checkpoint `id` (and at the end of input): makes what was written
 *   since the last call durable, starts a new transaction, and returns what `commit` needs
 *   to make it visible, as plain data (it is stored in the checkpoint); null if nothing
 *   was written.
 * - `commit(committables)` once the checkpoint that holds them is complete, and again after
 *   a restore for every committable the restored checkpoint holds: it must be idempotent.
 *   The prepared work of an aborted checkpoint is committed by the next one, never rolled back.
 * - `recover(held, adopted)` on a restore, before those commits: remove work in progress that no
 *   checkpoint holds (what the failed attempt wrote after its last checkpoint). On a
 *   restore at a lower parallelism, `adopted` lists the old subtasks (beyond this one's own
 *   index) whose transactions this subtask took over: their leftovers are its to remove too.
 *
 * Without checkpointing, the end of input prepares and commits at once.
 */
export interface TwoPhaseCommitSink<T, C> {
  open?(): void;
  write(value: T): void;
  prepareCommit(checkpointId: number): C | null;
  commit(committables: readonly C[]): void;
  recover?(held: readonly C[], adopted?: readonly number[]): void;
  close?(): void;
}

/** `sinkTo(twoPhaseCommitSink('Orders', (ctx) => ({ write, prepareCommit, commit })))`. */
export function twoPhaseCommitSink<T, C>(name: string, factory: (ctx: OperatorContext) => TwoPhaseCommitSink<T, C>) {
  if (typeof factory !== 'function') throw new WeirError('twoPhaseCommitSink takes a name and a factory (ctx) => sink');
  return { kind: 'sink:2pc', name, params: { factory } };
}
