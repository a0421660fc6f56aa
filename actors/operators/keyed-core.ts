// What every keyed operator holds: its backend and state store, the current key, timers in both domains, the watermark, and their snapshot.
import type { OperatorContext, StreamOperator } from '../../core/api/operator.ts';
import { WeirError } from '../../core/errors.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { keyGroupCache, keyGroupRangeForOperator } from '../../core/keys/key-groups.ts';
import type { BackendSnapshot, KeyedStateBackend } from '../../core/state/backend.ts';
import { KeyedStateStore } from '../../core/state/keyed-state.ts';
import { TimerQueue } from '../../core/state/timers.ts';
import type { Timer, TimerRow } from '../../core/state/timers.ts';

/** A keyed operator's snapshot: the same shape for process functions and windows, so both restore and rescale alike. */
export interface KeyedOperatorSnapshot {
  readonly state: BackendSnapshot;
  readonly eventTimers: TimerRow[];
  readonly processingTimers: TimerRow[];
  readonly watermark: number;
}

export class KeyedCore {
  readonly backend: KeyedStateBackend;
  readonly store: KeyedStateStore;
  readonly eventTimers = new TimerQueue();
  readonly processingTimers = new TimerQueue();
  /** The operator's input watermark; restored with its state, never moved back. */
  watermark = -Infinity;
  private readonly ctx: OperatorContext;
  private readonly groupOf: (key: Key) => number;

  constructor(ctx: OperatorContext, backend: KeyedStateBackend) {
    this.ctx = ctx;
    this.backend = backend;
    this.store = new KeyedStateStore(backend, ctx.clock, ctx.uid);
    this.groupOf = keyGroupCache(ctx.maxParallelism);
  }

  setKey(key: unknown): void {
    let keyGroup: number;
    try {
      keyGroup = this.groupOf(key as Key);
    } catch (err) {
      throw new WeirError(`keyBy produced a key that cannot be used: ${(err as Error).message}`, { uid: this.ctx.uid, subtask: this.ctx.subtask, cause: err });
    }
    this.backend.setCurrentKey({ key: key as Key, keyGroup });
  }

  /** A timer's key: its key group is in the timer, not hashed again. */
  setTimerKey(t: Timer): void {
    this.backend.setCurrentKey({ key: t.key, keyGroup: t.keyGroup });
  }

  get currentKey(): Key {
    return this.backend.currentKey.key;
  }

  registerEventTimer(ts: number, namespace = ''): void {
    this.eventTimers.register(ts, this.backend.currentKey.key, this.backend.currentKey.keyGroup, namespace);
  }
  registerProcessingTimer(ts: number, namespace = ''): void {
    this.processingTimers.register(ts, this.backend.currentKey.key, this.backend.currentKey.keyGroup, namespace);
  }
  deleteEventTimer(ts: number, namespace = ''): void {
    this.eventTimers.delete(ts, this.backend.currentKey.key, this.backend.currentKey.keyGroup, namespace);
  }
  deleteProcessingTimer(ts: number, namespace = ''): void {
    this.processingTimers.delete(ts, this.backend.currentKey.key, this.backend.currentKey.keyGroup, namespace);
  }

  /**
   * The input watermark advanced to `ts`: true if it moved (a watermark below the restored
   * one, from inputs that start again at -infinity after a restore, changes nothing).
   */
  advance(ts: number): boolean {
    if (ts <= this.watermark) return false;
    this.watermark = ts;
    return true;
  }

  /** The operator SPI's state and timer hooks, the same for every keyed operator. */
  hooks(): Pick<StreamOperator<unknown, unknown>, 'nextProcessingTime' | 'stateDescriptors' | 'snapshotState' | 'initializeState'
    | 'initializeRescaledState'> {
    return {
      nextProcessingTime: () => this.processingTimers.nextTimestamp(),
      stateDescriptors: () => this.store.describe(),
      snapshotState: (id) => this.snapshot(id),
      initializeState: (s) => this.restore(s),
      initializeRescaledState: (parts) => this.restoreRescaled(parts),
    };
  }

  snapshot(id: number): KeyedOperatorSnapshot {
    return {
      state: this.backend.snapshot(this.ctx.snapshotTarget?.(id), this.ctx.isSavepoint?.(id) === true),
      eventTimers: this.eventTimers.snapshot(), processingTimers: this.processingTimers.snapshot(), watermark: this.watermark,
    };
  }

  restore(s: unknown): void {
    const snap = s as KeyedOperatorSnapshot;
    this.backend.restore(snap.state);
    const { start, end } = keyGroupRangeForOperator(this.ctx.maxParallelism, this.ctx.parallelism, this.ctx.subtask);
    const owns = (kg: number) => kg >= start && kg <= end;
    this.eventTimers.restore(snap.eventTimers, owns);
    this.processingTimers.restore(snap.processingTimers, owns);
    // Unlike Flink (which starts again from -infinity), the watermark comes back with the state.
    this.watermark = snap.watermark;
  }

  restoreRescaled(parts: readonly { subtask: number; parallelism: number; state: unknown }[]): void {
    const mine = keyGroupRangeForOperator(this.ctx.maxParallelism, this.ctx.parallelism, this.ctx.subtask);
    const owns = (kg: number) => kg >= mine.start && kg <= mine.end;
    let least = Infinity;
    for (const part of parts) {
      const snap = part.state as KeyedOperatorSnapshot;
      // Every old subtask's watermark bounds what this one may have seen: the least of them.
      least = Math.min(least, snap.watermark);
      const theirs = keyGroupRangeForOperator(this.ctx.maxParallelism, part.parallelism, part.subtask);
      if (theirs.end < mine.start || theirs.start > mine.end) continue;
      this.backend.restore(snap.state);
      this.eventTimers.restore(snap.eventTimers, owns);
      this.processingTimers.restore(snap.processingTimers, owns);
    }
    this.watermark = parts.length === 0 ? -Infinity : least;
  }
}
