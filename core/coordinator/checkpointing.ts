// The checkpoint coordinator of one attempt: triggers on the interval, gathers acknowledgements, completes or aborts.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPath, completeCheckpoint, moveSavepoint, retainCheckpoints, savepointStaging } from '../checkpoint/storage.ts';
import type { CheckpointMetadata } from '../checkpoint/storage.ts';
import { FORMAT_VERSION } from '../checkpoint/storage.ts';
import { WeirError } from '../errors.ts';
import type { JobOptions } from '../options.ts';
import { ABORTED, COMPLETED, CONTROL_BYTES, SAVEPOINT, SUSPEND, TRIGGER, TRIGGERED_AT } from './deploy.ts';
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
  readonly identity: Pick<CheckpointMetadata, 'job' | 'fingerprint' | 'runId' | 'maxParallelism' | 'tasks' | 'edges' | 'stateBackend' | 'origin'>;
  /** A checkpoint, or a stop-with-savepoint, completed: what it covers is committed. (A plain savepoint commits nothing.) */
  readonly completed: (stats: CheckpointStats, finished: ReadonlySet<string>) => void;
  /** A stop-with-savepoint completed: record it (the resume pointer), before anything commits. */
  readonly stoppedWith?: (p: { id: number; path: string }) => void;
  /** Savepoints that commit nothing, and those made from final states, are reported here. */
  readonly stats?: (stats: CheckpointStats) => void;
  readonly failed: (stats: CheckpointStats) => void;
  /** Too many checkpoints failed in a row: the attempt fails over. */
  readonly failover: (err: WeirError) => void;
}

/** A savepoint asked for: where it goes, and whether the job stops with it. */
interface SavepointRequest {
  readonly dir: string;
  readonly stop: boolean;
  readonly resolve: (s: CheckpointStats) => void;
  readonly reject: (e: Error) => void;
}

interface Pending {
  readonly id: number;
  readonly savepoint: SavepointRequest | null;
  readonly triggeredAt: number;
  readonly started: number;
  readonly acks: Map<string, { file: StateFile; extra: readonly StateFile[]; descriptors: StateDescriptors; stateful: readonly string[] } & SubtaskCheckpointStats>;
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
  private readonly finals = new Map<string, { file: StateFile; lastCheckpoint: number; descriptors: StateDescriptors; stateful: readonly string[] }>();
  private readonly savepoints: SavepointRequest[] = [];
  /** A stop-with-savepoint completed: the job is ending, nothing more is triggered. */
  private suspended = false;
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

  /** The attempt is over (`failure`: why, where it failed): a checkpoint still in progress is listed as failed, with the reason. */
  stop(failure?: string): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const p = this.pending;
    if (p !== null) {
      clearTimeout(p.timeout);
      p.savepoint?.reject(new WeirError('the attempt ended before the savepoint was taken'));
      this.s.failed(this.failedStats(p, failure === undefined ? 'the attempt ended before it completed' : `the attempt failed before it completed: ${failure}`));
    }
    this.pending = null;
    this.rejectWaiters('the attempt ended before the checkpoint was taken');
    for (const r of this.savepoints.splice(0)) r.reject(new WeirError('the attempt ended before the savepoint was taken'));
  }

  /**
   * A savepoint into `dir` (after the checkpoint in progress, if any): aligned, keyed state
   * canonical, nothing committed by it unless `stop`, in which case the sources stop with it,
   * it commits, and every subtask ends without ending its input.
   */
  savepoint(dir: string, stop: boolean): Promise<CheckpointStats> {
    return new Promise((resolve, reject) => {
      if (this.stopped || this.suspended) return reject(new WeirError('the job is not running: no savepoint can be taken'));
      if (this.allFinished()) return reject(new WeirError('every subtask has finished: there is nothing left to take a savepoint of'));
      if (stop && (this.savepoints.some((r) => r.stop) || this.pending?.savepoint?.stop === true)) {
        return reject(new WeirError('a stop-with-savepoint is already in progress'));
      }
      this.savepoints.push({ dir, stop, resolve, reject });
      if (this.pending === null) this.trigger();
    });
  }

  /**
   * After a drained stop, every subtask has finished: the savepoint is their final states,
   * linked into sp-<id>/ and moved to `dir`.
   */
  savepointFromFinals(dir: string): CheckpointStats {
    const id = this.s.nextId();
    const started = performance.now();
    const triggeredAt = Date.now();
    const files: Record<string, StateFile> = {};
    const finishedFrom: Record<string, string> = {};
    for (const k of this.s.subtasks) {
      const f = this.finals.get(k);
      if (f === undefined) throw new WeirError(`subtask ${k} has not finished: the drained savepoint cannot be taken`);
      files[k] = { ...f.file, name: `${k}.final.state` };
      finishedFrom[`${k}.final.state`] = join(this.s.dir, f.file.name);
    }
    const staged = savepointStaging(this.s.dir, id);
    const metadata = this.metadata(id, 'savepoint', triggeredAt, files, [...this.finals.values()]);
    completeCheckpoint(this.s.dir, metadata, finishedFrom, staged);
    const path = moveSavepoint(staged, dir);
    const stats: CheckpointStats = {
      id, kind: 'savepoint', status: 'completed', alignment: 'aligned', path, triggeredAt, durationMs: performance.now() - started,
      syncMs: 0, asyncMs: 0, alignmentMs: 0, stateBytes: Object.values(files).reduce((n, f) => n + f.bytes, 0), persistedBytes: 0,
    };
    this.s.stats?.(stats);
    return stats;
  }

  private metadata(id: number, kind: 'checkpoint' | 'savepoint', triggeredAt: number, files: Record<string, StateFile>,
    parts: readonly { descriptors: StateDescriptors; stateful: readonly string[] }[]): CheckpointMetadata {
    const state: Record<string, { readonly name: string; readonly signature: string }[]> = {};
    for (const d of parts.map((x) => x.descriptors)) {
      for (const [uid, list] of Object.entries(d)) {
        const known = (state[uid] ??= []);
        for (const x of list) if (!known.some((y) => y.name === x.name)) known.push(x);
      }
    }
    const stateful = [...new Set(parts.flatMap((x) => x.stateful))].sort();
    return { format: FORMAT_VERSION, kind, id, ...this.s.identity, triggeredAt, completedAt: Date.now(), files, state, stateful };
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
    if (this.stopped || this.suspended || this.pending !== null) return;
    // Nothing left to checkpoint once every subtask has ended: not a failure, no trigger.
    if (this.allFinished()) {
      this.rejectWaiters('every subtask has finished: there is nothing left to checkpoint');
      for (const r of this.savepoints.splice(0)) r.reject(new WeirError('every subtask has finished: there is nothing left to take a savepoint of'));
      return;
    }
    const id = this.s.nextId();
    const savepoint = this.savepoints.shift() ?? null;
    mkdirSync(savepoint === null ? checkpointPath(this.s.dir, id) : savepointStaging(this.s.dir, id), { recursive: true });
    const timeoutMs = this.s.options.checkpointTimeout;
    this.pending = {
      id, savepoint, triggeredAt: Date.now(), started: performance.now(), acks: new Map(),
      timeout: setTimeout(() => this.abort(id, `it expired after ${timeoutMs} ms (checkpointTimeout)`), timeoutMs),
    };
    this.lastTriggered = performance.now();
    // The trigger time first: a subtask that sees the id reads it (the Atomics store orders them).
    new Float64Array(this.s.control.buffer, 0, CONTROL_BYTES / 8)[TRIGGERED_AT] = this.pending.triggeredAt;
    // What kind it is before its id: a source that sees the id knows it is a savepoint.
    if (savepoint !== null) {
      Atomics.store(this.s.control, SAVEPOINT, id);
      if (savepoint.stop) Atomics.store(this.s.control, SUSPEND, id);
    }
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
            file: m.file, extra: m.extra, syncMs: m.syncMs, asyncMs: m.asyncMs, alignmentMs: m.alignmentMs, descriptors: m.descriptors, stateful: m.stateful,
            alignment: m.alignment, persistedBytes: m.persistedBytes,
          });
          this.tryComplete();
        }
        return;
      case 'decline':
        this.abort(m.id, `subtask ${m.subtask} declined it: ${m.reason}`);
        return;
      case 'finished': {
        this.finals.set(m.subtask, { file: m.file, lastCheckpoint: m.lastCheckpoint, descriptors: m.descriptors, stateful: m.stateful });
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
    const parts: { descriptors: StateDescriptors; stateful: readonly string[] }[] = [];
    for (const k of this.s.subtasks) {
      const ack = p.acks.get(k);
      if (ack !== undefined) {
        files[k] = ack.file;
        // Verified with the rest, but not a subtask's state file: `<key>/<name>` keeps them apart.
        for (const x of ack.extra) files[`${k}/${x.name}`] = x;
        parts.push(ack);
        continue;
      }
      const f = this.finals.get(k)!;
      parts.push(f);
      files[k] = { ...f.file, name: `${k}.final.state` };
      finishedFrom[`${k}.final.state`] = join(this.s.dir, f.file.name);
      finished.add(k);
    }
    const sp = p.savepoint;
    const metadata = this.metadata(p.id, sp === null ? 'checkpoint' : 'savepoint', p.triggeredAt, files, parts);
    let path = checkpointPath(this.s.dir, p.id);
    try {
      if (sp === null) completeCheckpoint(this.s.dir, metadata, finishedFrom);
      else {
        completeCheckpoint(this.s.dir, metadata, finishedFrom, savepointStaging(this.s.dir, p.id));
        path = moveSavepoint(savepointStaging(this.s.dir, p.id), sp.dir);
        // After a stop the same command resumes from it: the pointer is durable before anything
        // commits, or the stop is given up (the job runs on).
        if (sp.stop) this.s.stoppedWith?.({ id: p.id, path });
      }
    } catch (err) {
      this.abort(p.id, `completing it failed: ${(err as Error).message}`);
      return;
    }
    clearTimeout(p.timeout);
    this.pending = null;
    // A savepoint says nothing of whether checkpoints succeed.
    if (sp === null) this.failuresInARow = 0;
    // Subtasks that waited for a final checkpoint and took this one commit and end now (not on a plain savepoint: it commits nothing).
    if (sp === null || sp.stop) for (const k of p.acks.keys()) this.awaiting.delete(k);
    const acks = [...p.acks.values()];
    const subtasks: Record<string, SubtaskCheckpointStats> = {};
    for (const [k, a] of p.acks) {
      subtasks[k] = { alignment: a.alignment, alignmentMs: a.alignmentMs, syncMs: a.syncMs, asyncMs: a.asyncMs, persistedBytes: a.persistedBytes };
    }
    const persistedBytes = acks.reduce((n, a) => n + a.persistedBytes, 0);
    const stats: CheckpointStats = {
      id: p.id, kind: sp === null ? 'checkpoint' : 'savepoint', status: 'completed', path,
      // Switched where any subtask went unaligned on the timeout; unaligned where any started so.
      alignment: acks.some((a) => a.alignment === 'switched') ? 'switched' : acks.some((a) => a.alignment === 'unaligned') ? 'unaligned'
        : acks.length > 0 ? 'aligned' : this.startsAs(),
      triggeredAt: p.triggeredAt, durationMs: performance.now() - p.started,
      syncMs: Math.max(0, ...acks.map((a) => a.syncMs)), asyncMs: Math.max(0, ...acks.map((a) => a.asyncMs)),
      alignmentMs: Math.max(0, ...acks.map((a) => a.alignmentMs)),
      // The channel state files are among the files: state bytes are the rest.
      stateBytes: Object.values(files).reduce((n, f) => n + f.bytes, 0) - channelFileBytes(files), persistedBytes, subtasks,
    };
    if (sp !== null && !sp.stop) {
      // As Flink since FLINK-25191: a savepoint commits nothing (a fallback to an older
      // checkpoint would commit it twice); what it prepared commits with the next checkpoint.
      this.s.stats?.(stats);
      sp.resolve(stats);
      this.settle(stats);
      return;
    }
    if (sp !== null) this.suspended = true;
    // The job commits what the checkpoint covers (collect epochs) before any subtask hears of it.
    this.s.completed(stats, finished);
    // Every subtask learns of it through the mailbox; a complete checkpoint subsumes older ones.
    // After a stop-with-savepoint they commit and end (SUSPEND): nothing more is triggered.
    Atomics.store(this.s.control, COMPLETED, p.id);
    this.s.ringAll();
    if (sp !== null) {
      sp.resolve(stats);
      this.rejectWaiters('the job stopped with a savepoint');
      return;
    }
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
    // A failed stop-with-savepoint leaves the job running: sources go on.
    if (p.savepoint?.stop === true) Atomics.store(this.s.control, SUSPEND, 0);
    Atomics.store(this.s.control, ABORTED, id);
    this.s.ringAll();
    // Never completed, never reused (ids only grow): what a late writer leaves there is harmless.
    try {
      rmSync(p.savepoint === null ? checkpointPath(this.s.dir, id) : savepointStaging(this.s.dir, id), { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A writer of this attempt may still be adding a file; the directory stays incomplete.
    }
    p.savepoint?.reject(new WeirError(`savepoint ${id} failed: ${reason}`));
    const stats = this.failedStats(p, reason);
    this.s.failed(stats);
    // A savepoint that fails is the caller's to retry: it does not count toward failing over.
    if (p.savepoint !== null) {
      this.settle(stats);
      return;
    }
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

  /** The statistics of checkpoint `p`, which failed for `reason`. */
  private failedStats(p: Pending, reason: string): CheckpointStats {
    return {
      id: p.id, kind: p.savepoint === null ? 'checkpoint' : 'savepoint', status: 'failed', alignment: this.startsAs(), path: checkpointPath(this.s.dir, p.id),
      triggeredAt: p.triggeredAt, durationMs: performance.now() - p.started, syncMs: 0, asyncMs: 0, alignmentMs: 0,
      stateBytes: 0, persistedBytes: 0, failure: reason,
    };
  }

  private settle(stats: CheckpointStats): void {
    // triggerCheckpoint() waits for a checkpoint: a savepoint, which commits nothing, does not answer it.
    const ready = stats.kind === 'savepoint' ? [] : this.waiters.filter((w) => stats.id > w.after);
    if (ready.length > 0) this.waiters.splice(0, this.waiters.length, ...this.waiters.filter((w) => !ready.includes(w)));
    for (const w of ready) w.resolve(stats);
    // Asked for during the one that just ended, or a final checkpoint that waited for it: now.
    if (this.waiters.length > 0 || this.savepoints.length > 0 || this.finalDue()) {
      this.trigger();
      return;
    }
    const interval = this.s.options.checkpointInterval;
    const sinceTrigger = performance.now() - this.lastTriggered;
    this.schedule(Math.max(interval - sinceTrigger, this.s.options.minPause));
  }
}
