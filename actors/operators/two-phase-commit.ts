// Hosts a TwoPhaseCommitSink: prepares at each checkpoint, commits when it completes, recommits on restore.
import type { OperatorContext, StreamOperator } from '../../core/api/operator.ts';
import type { TwoPhaseCommitSink } from '../../core/api/sink.ts';

interface Held<C> { readonly id: number; readonly committable: C }

export function twoPhaseCommitOperator<C>(sink: TwoPhaseCommitSink<unknown, C>, ctx: OperatorContext): StreamOperator<unknown, never> {
  const checkpointing = (ctx.options['checkpointInterval'] as number) > 0;
  /** Prepared and not yet committed, oldest first: a checkpoint's snapshot holds all of them. */
  let held: Held<C>[] = [];
  let restored: Held<C>[] | null = null;
  /** Old subtasks (other than this one's index) whose transactions a rescale gave this one. */
  let adopted: number[] = [];
  let ended = false;
  /** The checkpoint taken after the end of input (0: none yet): it prepares the last transaction. */
  let finalId = 0;
  const commitUpTo = (id: number) => {
    const ready = held.filter((h) => h.id <= id);
    if (ready.length === 0) return;
    sink.commit(ready.map((h) => h.committable));
    held = held.filter((h) => h.id > id);
  };
  return {
    initializeState(s) {
      restored = (s as { held: Held<C>[] }).held;
    },
    // At another parallelism, old subtask j's transactions go to subtask j mod parallelism, which commits them.
    initializeRescaledState(parts) {
      const mine = parts.filter((p) => p.subtask % ctx.parallelism === ctx.subtask);
      restored = mine.flatMap((p) => (p.state as { held: Held<C>[] }).held);
      adopted = mine.map((p) => p.subtask).filter((j) => j !== ctx.subtask);
    },
    open() {
      sink.open?.();
      if (restored !== null) {
        // What the restored checkpoint prepared may or may not have been committed before the
        // failure: commit it (again), after clearing what no checkpoint holds.
        const committables = restored.map((h) => h.committable);
        sink.recover?.(committables, adopted);
        if (committables.length > 0) sink.commit(committables);
        restored = null;
      } else if (ctx.attempt > 0) {
        // A restart with no checkpoint to restore starts over: what earlier attempts wrote goes.
        sink.recover?.([]);
      }
    },
    processElement(v) {
      sink.write(v);
    },
    snapshotState(id) {
      if (ended) finalId = id;
      const c = sink.prepareCommit(id);
      if (c !== null) held.push({ id, committable: c });
      return { held };
    },
    notifyCheckpointComplete(id) {
      commitUpTo(id);
    },
    finish() {
      ended = true;
      if (checkpointing) return;
      const c = sink.prepareCommit(0);
      if (c !== null) sink.commit([...held.map((h) => h.committable), c]);
      held = [];
    },
    // After the end of input the last transaction waits for a final checkpoint to commit it.
    awaitsFinalCheckpoint: () => checkpointing && ended && (finalId === 0 || held.length > 0),
    close() {
      sink.close?.();
    },
  };
}
