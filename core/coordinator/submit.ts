// submit(): the job on the calling thread: plans it, runs attempts one after another as the restart strategy allows.
import { rm, rmdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decideRestart, NO_RESTARTS_YET } from '../checkpoint/restart-strategy.ts';
import { clearStagedSavepoints, discardCheckpoints, latestValidCheckpoint, lockCheckpointDir, nextCheckpointId, readResumePointer, readSavepointDir, writeResumePointer } from '../checkpoint/storage.ts';
import { checkRestore, edgeLayoutOf, layoutOf, restoredMaxParallelism } from '../checkpoint/restore-plan.ts';
import type { RestorableCheckpoint } from '../checkpoint/storage.ts';
import { WeirError } from '../errors.ts';
import { plan } from '../graph/plan.ts';
import { buildGraph, loadJob } from '../job.ts';
import { restartPolicyOf, validateOptions } from '../options.ts';
import type { SubmitOptions } from '../options.ts';
import type { JobOptions } from '../options.ts';
import { finishedParts, newRunId, prepareSinkDirectory } from '../sinks/part-files.ts';
import type { ExistingFiles } from '../sinks/part-files.ts';
import { Attempt } from './attempt.ts';
import type { CheckpointStats } from './checkpointing.ts';
import type { OperatorCounts } from './deploy.ts';

export interface JobResult {
  /** Records in and out of each operator in the attempt that finished, summed over its subtasks, by uid. */
  readonly operators: Record<string, OperatorCounts>;
  /** Records of each collect() sink, by its uid (the finishing attempt's: a failed attempt's are dropped). */
  readonly collected: Record<string, unknown[]>;
  readonly durationMs: number;
  /** The largest overdraft any channel held, in bytes: the memory bound under backpressure, metered. */
  readonly peakOverdraftBytes: number;
  /** Where each file sink wrote (absolute), and the part files this run finished there, by uid. */
  readonly fileSinks: Record<string, { dir: string; files: string[] }>;
  /** How many times the job was restarted after a failure. */
  readonly restarts: number;
  /** Every checkpoint of the run, oldest first, completed and failed. */
  readonly checkpoints: readonly CheckpointStats[];
  /** The checkpoint the last attempt started from, or null if it started afresh. */
  readonly restoredFrom: { readonly id: number; readonly path: string } | null;
  /** The savepoint the job stopped with (stopWithSavepoint), or null. */
  readonly savepoint: CheckpointStats | null;
}

export interface JobHandle {
  readonly plan: { readonly slots: number; readonly fingerprint: string; readonly warnings: readonly string[] };
  /** Resolves when a bounded job ends; rejects with a WeirError naming operator and subtask on failure. */
  readonly done: Promise<JobResult>;
  /** Sources end their input; everything in flight is processed; `done` resolves. */
  stop(): Promise<JobResult>;
  /** Stops at once; `done` rejects with a cancellation error. */
  cancel(): Promise<void>;
  /** The checkpoints so far, oldest first, completed and failed; live while the job runs. */
  checkpoints(): readonly CheckpointStats[];
  /** Triggers a checkpoint now (after the one in progress); resolves with its stats. */
  triggerCheckpoint(): Promise<CheckpointStats>;
  /**
   * Takes a savepoint into `dir` (as `sp-<id>/`): aligned, keyed state in the canonical form,
   * self-contained; it commits no sink output (the next checkpoint does). Resolves with its
   * stats, `path` included.
   */
  savepoint(dir: string): Promise<CheckpointStats>;
  /**
   * Stops the job with a savepoint into `dir`. Without `drain` the sources stop at its barrier,
   * sinks commit up to it, and no end of input or final watermark is sent (timers and windows
   * fire once, after the resume). With `drain` the input is ended and processed first (Flink's
   * --drain), and the savepoint holds the final state. `done` resolves once the job has stopped.
   */
  stopWithSavepoint(dir: string, opts?: { readonly drain?: boolean }): Promise<CheckpointStats>;
  /** Records the sources of the running attempt have emitted so far (it starts again at a restart). */
  recordsEmitted(): number;
}

/** The newest complete checkpoint in `dir` that verifies; damaged ones are reported and skipped. */
function restorable(dir: string, skipped: (message: string) => void): RestorableCheckpoint | null {
  const { checkpoint, skipped: bad } = latestValidCheckpoint(dir);
  for (const b of bad) skipped(`skipping a damaged checkpoint: ${b}`);
  return checkpoint;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function jobUrlOf(job: URL | string): string {
  if (job instanceof URL) return job.href;
  if (/^[a-z]+:\/\//i.test(job)) return job;
  return pathToFileURL(isAbsolute(job) ? job : resolve(job)).href;
}

export interface SubmitHooks {
  /** Called on the submitting thread as each checkpoint completes or fails (the CLI prints a line). */
  readonly onCheckpoint?: (stats: CheckpointStats) => void;
}

export async function submit(job: URL | string, options: SubmitOptions = {}, hooks: SubmitHooks = {}): Promise<JobHandle> {
  const onCheckpoint = hooks.onCheckpoint;
  const given = validateOptions(options as Record<string, unknown>);
  const jobUrl = jobUrlOf(job);
  const definition = await loadJob(jobUrl);
  const { env, warnings } = buildGraph(definition, given);
  let resolved = env.resolvedOptions();
  const checkpointing = resolved.checkpointInterval > 0;
  if (checkpointing && resolved.unaligned && resolved.checkpointingMode !== 'exactly-once') {
    // As Flink: in-flight records persisted for a checkpoint that does not align mean nothing.
    throw new WeirError(`option 'unaligned' needs checkpointingMode 'exactly-once' (it is '${resolved.checkpointingMode}')`);
  }
  if (!checkpointing && resolved.fromSavepoint !== undefined) {
    throw new WeirError(`option 'fromSavepoint' needs checkpointing: set 'checkpointInterval' (the restored job checkpoints too)`);
  }
  if (checkpointing && !resolved.unaligned && resolved.alignedCheckpointTimeout > 0) {
    warnings.push(`option 'alignedCheckpointTimeout' only applies with 'unaligned': checkpoints stay aligned`);
  }
  if (!checkpointing && resolved.checkpointDir !== undefined) {
    warnings.push(`option 'checkpointDir' is set but 'checkpointInterval' is 0: no checkpoints are taken`);
  }
  // Without a checkpointDir, checkpoints live in the run's working directory: they serve
  // restarts within this process and go with it.
  const userDir = resolved.checkpointDir !== undefined ? resolve(resolved.checkpointDir) : undefined;
  const origin = resolved.fromSavepoint !== undefined ? resolve(resolved.fromSavepoint) : undefined;
  const unlock = checkpointing && userDir !== undefined ? lockCheckpointDir(userDir) : () => {};
  if (checkpointing && userDir !== undefined) {
    for (const w of clearStagedSavepoints(userDir)) warnings.push(w);
  }
  const refuse = (err: unknown): never => { unlock(); throw err; };
  // Where the job starts from. A checkpoint directory holding this job's checkpoints resumes
  // from the newest (after a crash), unless a stop-with-savepoint came after it; an explicit
  // fromSavepoint starts a new lineage, which later resumes from its own checkpoints.
  let restoreFrom: RestorableCheckpoint | null = null;
  let sameLineage = false;
  let startNote: string | null = null;
  let p = plan(env.graph, resolved);
  try {
    let found: RestorableCheckpoint | null = null;
    let pointer = null;
    if (checkpointing && userDir !== undefined) {
      found = restorable(userDir, (skipped) => warnings.push(skipped));
      pointer = readResumePointer(userDir);
    }
    if (found !== null && (pointer === null || found.id > pointer.id) && (origin === undefined || found.metadata.origin === origin)) {
      resolved = { ...resolved, maxParallelism: restoredMaxParallelism(found.metadata, resolved.maxParallelism, `checkpoint ${found.id} (${found.path})`) };
      p = plan(env.graph, resolved);
      if (found.metadata.fingerprint !== p.fingerprint) {
        throw new WeirError(`checkpoint directory ${userDir} holds checkpoints of another job (${found.metadata.job}, plan `
          + `${found.metadata.fingerprint}); this job is ${jobUrl} (plan ${p.fingerprint}): choose another --checkpoint-dir, or start `
          + `from one of them with --from-savepoint ${found.path}`, { unrecoverable: true });
      }
      restoreFrom = found;
      sameLineage = true;
      startNote = `resuming from checkpoint ${found.id} in ${found.path}`;
    } else if (origin !== undefined || pointer !== null) {
      const path = origin ?? pointer!.path;
      try {
        restoreFrom = readSavepointDir(path);
      } catch (err) {
        if (origin !== undefined) throw err;
        // Never an older checkpoint instead: the job was stopped with this savepoint.
        throw new WeirError(`the job in ${userDir} was stopped with savepoint ${pointer!.id} (${path}), which cannot be restored: `
          + `${(err as Error).message}`, { cause: err, unrecoverable: true });
      }
      const what = `${restoreFrom.metadata.kind ?? 'checkpoint'} ${restoreFrom.id} (${restoreFrom.path})`;
      resolved = { ...resolved, maxParallelism: restoredMaxParallelism(restoreFrom.metadata, resolved.maxParallelism, what) };
      p = plan(env.graph, resolved);
      const { skipped } = checkRestore(restoreFrom, p, resolved.allowNonRestoredState);
      if (skipped.length > 0) warnings.push(`starting without the state of ${skipped.map((u) => `'${u}'`).join(', ')} from ${what} (allowNonRestoredState)`);
      startNote = origin !== undefined ? `starting from ${what}` : `resuming from savepoint ${restoreFrom.id} in ${restoreFrom.path}: the job was stopped with it`;
    }
  } catch (err) {
    refuse(err);
  }
  // One per run, never shared: two runs in one millisecond of one process had one directory (and one checkpoint directory).
  const runId = newRunId();
  const runDir = join(resolve(resolved.workDir), `run-${p.fingerprint}-${runId}`);
  const checkpointDir = userDir ?? join(runDir, 'checkpoints');
  const identity = {
    job: jobUrl, fingerprint: p.fingerprint, runId,
    maxParallelism: Object.fromEntries(p.tasks.map((t) => [String(t.id), t.maxParallelism])),
    tasks: layoutOf(p), edges: edgeLayoutOf(p), stateBackend: resolved.stateBackend,
    // The savepoint this lineage began from: the same command after a crash resumes from its checkpoints.
    origin: sameLineage ? restoreFrom!.metadata.origin : origin ?? (restoreFrom !== null ? restoreFrom.path : undefined),
  };
  for (const w of warnings) process.emitWarning(w, 'WeirWarning');
  if (startNote !== null) process.emitWarning(startNote, 'WeirWarning');
  const fileSinks = env.graph.nodes.filter((n) => n.kind === 'sink:file')
    .map((n) => ({ uid: n.uid, dir: resolve(n.params['dir'] as string), existing: n.params['existing'] as ExistingFiles }));
  // A resumed job continues its lineage: its sinks' files are its own, and the restored
  // subtasks commit what the checkpoint prepared and clear the rest.
  try {
    if (restoreFrom === null) for (const s of fileSinks) prepareSinkDirectory(s.dir, s.uid, s.existing);
  } catch (err) {
    refuse(err);
  }

  const policy = restartPolicyOf(resolved);
  const started = performance.now();
  let current: Attempt | null = null;
  let stopping = false;
  let cancelled: WeirError | null = null;
  let wakeRestart: (() => void) | null = null;
  const stats: CheckpointStats[] = [];
  const collected: Record<string, unknown[]> = {};
  let nextId = checkpointing ? nextCheckpointId(checkpointDir) : 1;

  const done = (async (): Promise<JobResult> => {
    let history = NO_RESTARTS_YET;
    let restore = restoreFrom;
    let finished = false;
    let stoppedWith: CheckpointStats | null = null;
    try {
      for (let attempt = 0; ; attempt++) {
        current = new Attempt({
          jobUrl, graph: env.graph, plan: p, options: resolved, attempt, runId, runDir, collected,
          checkpointing: !checkpointing ? null : {
            dir: checkpointDir, nextId: () => nextId++, restore, identity,
            stoppedWith: userDir === undefined ? undefined : (sp) => writeResumePointer(userDir, sp),
            stats: (s) => {
              stats.push(s);
              onCheckpoint?.(s);
            },
          },
        });
        if (stopping) current.stop();
        try {
          const r = await current.done;
          finished = true;
          stoppedWith = r.savepoint;
          return {
            ...r, savepoint: r.savepoint, collected, durationMs: performance.now() - started, restarts: history.restarts, checkpoints: stats,
            restoredFrom: restore === null ? null : { id: restore.id, path: restore.path },
            fileSinks: Object.fromEntries(fileSinks.map((s) => [s.uid, { dir: s.dir, files: finishedParts(s.dir, s.uid, runId) }])),
          };
        } catch (err) {
          const failure = err as WeirError;
          if (cancelled !== null) throw cancelled;
          if (failure.unrecoverable || stopping) throw failure;
          const decision = decideRestart(policy, history, Date.now());
          if (!decision.restart) {
            if (history.restarts === 0) throw failure;
            throw new WeirError(`the job failed after ${history.restarts} restart(s) (${decision.reason}): ${failure.message}`, { cause: failure });
          }
          history = decision.history;
          process.emitWarning(`restarting the job in ${decision.delayMs} ms (restart ${history.restarts}) after: ${failure.message}`, 'WeirWarning');
          // A cancel during the delay ends the wait at once.
          await Promise.race([delay(decision.delayMs), new Promise<void>((r) => { wakeRestart = r; })]);
          wakeRestart = null;
          if (cancelled !== null) throw cancelled;
          // The newest complete checkpoint, verified; a damaged one is skipped for the one before.
          // Only this run's own checkpoints continue its lineage; without one it starts again from
          // where it started (a savepoint, or the checkpoint it resumed), never from a leftover
          // of another run in the same directory.
          if (checkpointing) {
            const newest = restorable(checkpointDir, (skipped) => process.emitWarning(skipped, 'WeirWarning'));
            restore = newest !== null && newest.metadata.runId === runId ? newest : restoreFrom;
          }
        }
      }
    } finally {
      // As in Flink: a finished job's checkpoints are discarded (running it again starts anew);
      // those of a failed or cancelled one are kept for a resume.
      // Stopped with a savepoint: the same command on this directory resumes from it, never from
      // an older checkpoint (the pointer was written before the stop committed anything).
      if (finished && userDir !== undefined) discardCheckpoints(userDir, { keepResumePointer: stoppedWith !== null });
      if (stoppedWith !== null && userDir !== undefined) writeResumePointer(userDir, { id: stoppedWith.id, path: stoppedWith.path });
      unlock();
      await rm(runDir, { recursive: true, force: true });
      // The working directory itself goes too when this run was all it held.
      await rmdir(resolve(resolved.workDir)).catch(() => {});
    }
  })();
  done.catch(() => {});

  return {
    plan: { slots: p.slots, fingerprint: p.fingerprint, warnings },
    done,
    async stop() {
      stopping = true;
      current?.stop();
      return done;
    },
    checkpoints: () => stats,
    recordsEmitted: () => current?.recordsEmitted() ?? 0,
    async triggerCheckpoint() {
      const t = current?.triggerCheckpoint();
      if (t === null || t === undefined) throw new WeirError(`this job takes no checkpoints: set 'checkpointInterval'`);
      return t;
    },
    async savepoint(dir: string) {
      const t = current?.savepoint(resolve(dir), false);
      if (t === null || t === undefined) throw new WeirError(`this job takes no checkpoints, so no savepoints either: set 'checkpointInterval'`);
      return savepointResult(await t);
    },
    async stopWithSavepoint(dir: string, opts: { readonly drain?: boolean } = {}) {
      const attempt = current;
      const t = opts.drain === true ? attempt?.stopWithDrain(resolve(dir)) : attempt?.savepoint(resolve(dir), true);
      if (t === null || t === undefined) throw new WeirError(`this job takes no checkpoints, so no savepoints either: set 'checkpointInterval'`);
      if (opts.drain === true) stopping = true;
      const stats = await t;
      stopping = true;
      return savepointResult(stats);
    },
    async cancel() {
      cancelled ??= new WeirError('the job was cancelled');
      current?.fail(cancelled);
      (wakeRestart as (() => void) | null)?.();
      await done.catch(() => {});
    },
  };
}

/**
 * What savepoint() resolves with: its statistics, which also read as its path where a string
 * is made of them (`${sp}`, `'--from-savepoint ' + sp`), as a bare path would. fromSavepoint and
 * readSavepoint take them as they are. A copy: the list of checkpoints keeps plain statistics.
 */
function savepointResult(stats: CheckpointStats): CheckpointStats {
  const out = { ...stats };
  Object.defineProperty(out, 'toString', { value: () => stats.path, enumerable: false });
  return out;
}
