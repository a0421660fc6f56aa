// The checkpoint coordinator of one attempt: triggers on the interval, gathers acknowledgements, completes or aborts.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPath, completeCheckpoint, retainCheckpoints } from '../checkpoint/storage.ts';
import type { CheckpointMetadata } from '../checkpoint/storage.ts';
import { FORMAT_VERSION } from '../checkpoint/storage.ts';
import { WeirError } from '../errors.ts';
import type { JobOptions } from '../options.ts';
import { ABORTED, COMPLETED, CONTROL_BYTES, TRIGGER, TRIGGERED_AT } from './deploy.ts';
import type { StateDescriptors, StateFile, WorkerMessage } from './deploy.ts';

/** As API.md has it: one entry per checkpoint, completed or failed. */
export interface CheckpointStats {
  readonly id: number;
  readonly kind: 'checkpoint' | 'savepoint';
  readonly status: 'completed' | 'failed';
  readonly alignment: 'aligned' | 'unaligned' | 'switched';
  readonly path: string;
  readonly triggeredAt: number;
  readonly durationMs: number;
  /** The longest synchronous part over subtasks (state copied, barrier sent). */
  readonly syncMs: number;
  /** The longest asynchronous part over subtasks (state written and fsynced). */
  readonly asyncMs: number;
  readonly alignmentMs: number;
  readonly stateBytes: number;
  readonly persistedBytes: number;
  /** Per subtask (`<task>-<subtask>`), for the subtasks that acknowledged it. */
  readonly subtasks?: Readonly<Record<string, SubtaskCheckpointStats>>;
  readonly failure?: string;
}

export interface SubtaskCheckpointStats {
  readonly alignment: 'aligned' | 'unaligned' | 'switched';
  readonly alignmentMs: number;
  readonly syncMs: number;
  readonly asyncMs: number;
  readonly persistedBytes: number;
}

export interface CheckpointingSpec {
  readonly dir: string;
  readonly options: JobOptions;
  /** Every subtask of the job, `<task>-<subtask>`: each acknowledges or has finished. */
  readonly subtasks: readonly string[];
  readonly control: Int32Array;
  readonly ringAll: () => void;
  /** A subtask finished: its consumers may take a trigger its barrier will never bring them. */
  readonly finished?: (taskId: number, subtask: number) => void;
  readonly nextId: () => number;
  readonly identity: Pick<CheckpointMetadata, 'job' | 'fingerprint' | 'runId' | 'maxParallelism'>;
  readonly completed: (stats: CheckpointStats, finished: ReadonlySet<string>) => void;
  readonly failed: (stats: CheckpointStats) => void;
  /** Too many checkpoints failed in a row: the attempt fails over. */
  readonly failover: (err: WeirError) => void;
}

interface Pending {
  readonly id: number;
  readonly triggeredAt: number;
  readonly started: number;
  readonly acks: Map<string, { file: StateFile; extra: readonly StateFile[]; descriptors: StateDescriptors } & SubtaskCheckpointStats>;
  readonly timeout: NodeJS.Timeout;
}

function channelFileBytes(files: Readonly<Record<string, StateFile>>): number {
  let n = 0;
  for (const f of Object.values(files)) if (f.name.endsWith('.channels')) n += f.bytes;
  return n;
}

export class CheckpointCoordinator {
  private readonly s: CheckpointingSpec;
  private pending: Pending | null = null;
  private readonly finals = new Map<string, { file: StateFile; lastCheckpoint: number; descriptors: StateDescriptors }>();
  private readonly awaiting = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private lastTriggered = 0;
  private failuresInARow = 0;
  private stopped = false;
  /** triggerCheckpoint() callers: each waits for a checkpoint triggered after it asked (id > after). */
  private readonly waiters: { after: number; resolve: (s: CheckpointStats) => void; reject: (e: Error) => void }[] = [];

  constructor(spec: CheckpointingSpec) {
    this.s = spec;
  }

  start(): void {
    this.schedule(this.s.options.checkpointInterval);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.pending !== null) clearTimeout(this.pending.timeout);
    this.pending = null;
    this.rejectWaiters('the attempt ended before the checkpoint was taken');
  }

  /** Triggers one now (after the one in progress, if any); resolves with its stats. */
  triggerNow(): Promise<CheckpointStats> {
    return new Promise((resolve, reject) => {
      if (this.stopped) return reject(new WeirError('the job is not running: no checkpoint can be taken'));
      if (this.allFinished()) return reject(new WeirError('every subtask has finished: there is nothing left to checkpoint'));
      this.waiters.push({ after: this.pending?.id ?? 0, resolve, reject });
      if (this.pending === null) this.trigger();
    });
  }

  /** How a checkpoint begins by the options (what the stats say when no subtask said otherwise). */
  private startsAs(): 'aligned' | 'unaligned' {
    return this.s.options.unaligned && this.s.options.alignedCheckpointTimeout === 0 ? 'unaligned' : 'aligned';
  }

  private rejectWaiters(why: string): void {
    for (const w of this.waiters.splice(0)) w.reject(new WeirError(why));
  }

  private allFinished(): boolean {
    return this.s.subtasks.every((k) => this.finals.has(k));
  }

  /** Every subtask has ended or waits for a final checkpoint to commit: it goes now, not on the interval. */
  private finalDue(): boolean {
    return this.awaiting.size > 0 && this.s.subtasks.every((k) => this.finals.has(k) || this.awaiting.has(k));
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.s.options.checkpointInterval <= 0) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; this.trigger(); }, Math.max(0, delayMs));
  }

  private trigger(): void {
    if (this.stopped || this.pending !== null) return;
    // Nothing left to checkpoint once every subtask has ended: not a failure, no trigger.
    if (this.allFinished()) {
      this.rejectWaiters('every subtask has finished: there is nothing left to checkpoint');
      return;
    }
    const id = this.s.nextId();
    mkdirSync(checkpointPath(this.s.dir, id), { recursive: true });
    const timeoutMs = this.s.options.checkpointTimeout;
    this.pending = {
      id, triggeredAt: Date.now(), started: performance.now(), acks: new Map(),
      timeout: setTimeout(() => this.abort(id, `it expired after ${timeoutMs} ms (checkpointTimeout)`), timeoutMs),
    };
    this.lastTriggered = performance.now();
    // The trigger time first: a subtask that sees the id reads it (the Atomics store orders them).
    new Float64Array(this.s.control.buffer, 0, CONTROL_BYTES / 8)[TRIGGERED_AT] = this.pending.triggeredAt;
    Atomics.store(this.s.control, TRIGGER, id);
    this.s.ringAll();
    this.tryComplete();
  }

  handle(m: WorkerMessage): void {
    if (this.stopped) return;
    switch (m.type) {
      case 'ack':
        if (this.pending?.id === m.id) {
          this.pending.acks.set(m.subtask, {
            file: m.file, extra: m.extra, syncMs: m.syncMs, asyncMs: m.asyncMs, alignmentMs: m.alignmentMs, descriptors: m.descriptors,
            alignment: m.alignment, persistedBytes: m.persistedBytes,
          });
          this.tryComplete();
        }
        return;
      case 'decline':
        this.abort(m.id, `subtask ${m.subtask} declined it: ${m.reason}`);
        return;
      case 'finished': {
        this.finals.set(m.subtask, { file: m.file, lastCheckpoint: m.lastCheckpoint, descriptors: m.descriptors });
        const [taskId, subtask] = m.subtask.split('-').map(Number) as [number, number];
        this.s.finished?.(taskId, subtask);
        if (this.pending !== null) this.s.ringAll();
        this.awaiting.delete(m.subtask);
        this.tryComplete();
        if (this.finalDue()) this.trigger();
        return;
      }
      case 'awaiting':
        this.awaiting.add(m.subtask);
        // With one in progress, settle() triggers the final one when it ends.
        if (this.finalDue()) this.trigger();
        return;
      default:
        return;
    }
  }

  private tryComplete(): void {
    const p = this.pending;
    if (p === null) return;
    // A finished subtask stands in with its final state only for checkpoints it never took:
    // for one it took, its acknowledgement (maybe still being written) is the truth.
    const standsIn = (k: string) => { const f = this.finals.get(k); return f !== undefined && f.lastCheckpoint < p.id; };
    const missing = this.s.subtasks.filter((k) => !p.acks.has(k) && !standsIn(k));
    if (missing.length > 0) return;
    const files: Record<string, StateFile> = {};
    const finishedFrom: Record<string, string> = {};
    const finished = new Set<string>();
    const state: Record<string, { readonly name: string; readonly signature: string }[]> = {};
    const describe = (d: StateDescriptors) => {
      for (const [uid, list] of Object.entries(d)) {
        const known = (state[uid] ??= []);
        for (const x of list) if (!known.some((y) => y.name === x.name)) known.push(x);
      }
    };
    for (const k of this.s.subtasks) {
      const ack = p.acks.get(k);
      if (ack !== undefined) {
        files[k] = ack.file;
        // Verified with the rest, but not a subtask's state file: `<key>/<name>` keeps them apart.
        for (const x of ack.extra) files[`${k}/${x.name}`] = x;
        describe(ack.descriptors);
        continue;
      }
      describe(this.finals.get(k)!.descriptors);
      const f = this.finals.get(k)!.file;
      files[k] = { ...f, name: `${k}.final.state` };
      finishedFrom[`${k}.final.state`] = join(this.s.dir, f.name);
      finished.add(k);
    }
    const metadata: CheckpointMetadata = {
      format: FORMAT_VERSION, id: p.id, ...this.s.identity, triggeredAt: p.triggeredAt, completedAt: Date.now(), files, state,
    };
    try {
      completeCheckpoint(this.s.dir, metadata, finishedFrom);
    } catch (err) {
      this.abort(p.id, `completing it failed: ${(err as Error).message}`);
      return;
    }
    clearTimeout(p.timeout);
    this.pending = null;
    this.failuresInARow = 0;
    // Subtasks that waited for a final checkpoint and took this one commit and end now.
    for (const k of p.acks.keys()) this.awaiting.delete(k);
    const acks = [...p.acks.values()];
    const subtasks: Record<string, SubtaskCheckpointStats> = {};
    for (const [k, a] of p.acks) {
      subtasks[k] = { alignment: a.alignment, alignmentMs: a.alignmentMs, syncMs: a.syncMs, asyncMs: a.asyncMs, persistedBytes: a.persistedBytes };
    }
    const persistedBytes = acks.reduce((n, a) => n + a.persistedBytes, 0);
    const stats: CheckpointStats = {
      id: p.id, kind: 'checkpoint', status: 'completed', path: checkpointPath(this.s.dir, p.id),
      // Switched where any subtask went unaligned on the timeout; unaligned where any started so.
      alignment: acks.some((a) => a.alignment === 'switched') ? 'switched' : acks.some((a) => a.alignment === 'unaligned') ? 'unaligned'
        : acks.length > 0 ? 'aligned' : this.startsAs(),
      triggeredAt: p.triggeredAt, durationMs: performance.now() - p.started,
      syncMs: Math.max(0, ...acks.map((a) => a.syncMs)), asyncMs: Math.max(0, ...acks.map((a) => a.asyncMs)),
      alignmentMs: Math.max(0, ...acks.map((a) => a.alignmentMs)),
      // The channel state files are among the files: state bytes are the rest.
      stateBytes: Object.values(files).reduce((n, f) => n + f.bytes, 0) - channelFileBytes(files), persistedBytes, subtasks,
    };
    // The job commits what the checkpoint covers (collect epochs) before any subtask hears of it.
    this.s.completed(stats, finished);
    // Every subtask learns of it through the mailbox; a complete checkpoint subsumes older ones.
    Atomics.store(this.s.control, COMPLETED, p.id);
    this.s.ringAll();
    try {
      retainCheckpoints(this.s.dir, this.s.options.retainedCheckpoints);
    } catch (err) {
      process.emitWarning(`could not remove checkpoints older than ${p.id}: ${(err as Error).message}`, 'WeirWarning');
    }
    this.settle(stats);
  }

  private abort(id: number, reason: string): void {
    const p = this.pending;
    if (p === null || p.id !== id) return;
    clearTimeout(p.timeout);
    this.pending = null;
    Atomics.store(this.s.control, ABORTED, id);
    this.s.ringAll();
    // Never completed, never reused (ids only grow): what a late writer leaves there is harmless.
    try {
      rmSync(checkpointPath(this.s.dir, id), { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A writer of this attempt may still be adding a file; the directory stays incomplete.
    }
    const stats: CheckpointStats = {
      id, kind: 'checkpoint', status: 'failed', alignment: this.startsAs(), path: checkpointPath(this.s.dir, id),
      triggeredAt: p.triggeredAt, durationMs: performance.now() - p.started, syncMs: 0, asyncMs: 0, alignmentMs: 0,
      stateBytes: 0, persistedBytes: 0, failure: reason,
    };
    this.s.failed(stats);
    this.failuresInARow++;
    const tolerable = this.s.options.tolerableFailedCheckpoints;
    if (this.failuresInARow > tolerable) {
      const err = new WeirError(`checkpoint ${id} failed: ${reason}; ${this.failuresInARow} failed checkpoint(s) in a row `
        + `exceed tolerableFailedCheckpoints (${tolerable})`);
      this.rejectWaiters(err.message);
      this.s.failover(err);
      return;
    }
    this.settle(stats);
  }

  private settle(stats: CheckpointStats): void {
    const ready = this.waiters.filter((w) => stats.id > w.after);
    this.waiters.splice(0, this.waiters.length, ...this.waiters.filter((w) => stats.id <= w.after));
    for (const w of ready) w.resolve(stats);
    // Asked for during the one that just ended, or a final checkpoint that waited for it: now.
    if (this.waiters.length > 0 || this.finalDue()) {
      this.trigger();
      return;
    }
    const interval = this.s.options.checkpointInterval;
    const sinceTrigger = performance.now() - this.lastTriggered;
    this.schedule(Math.max(interval - sinceTrigger, this.s.options.minPause));
  }
}
