// One attempt of a job: its own rings, doorbells, control word, collect reader, pool and working directory.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MessageChannel, SHARE_ENV } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Doorbell, DOORBELL_BYTES } from '../channel/doorbell.ts';
import { allocateRing } from '../channel/ring.ts';
import { errorFromReport, WeirError } from '../errors.ts';
import { collectRingKey, ringKeysOf } from '../graph/channels.ts';
import type { JobPlan } from '../graph/plan.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';
import type { JobOptions } from '../options.ts';
import type { RestorableCheckpoint } from '../checkpoint/storage.ts';
import { CheckpointCoordinator } from './checkpointing.ts';
import type { CheckpointingSpec, CheckpointStats } from './checkpointing.ts';
import { CollectReader } from './collect.ts';
import { CONTROL_BYTES, STOP, STOP_CANCEL, STOP_GRACEFUL, STOP_RUN, subtaskIndex, subtaskKey } from './deploy.ts';
import type { DeployMessage, OperatorCounts, SlotResult, WorkerMessage } from './deploy.ts';

export interface AttemptSpec {
  readonly jobUrl: string;
  readonly graph: StreamGraph;
  readonly plan: JobPlan;
  readonly options: JobOptions;
  /** 0 for the first attempt; it grows with every restart. */
  readonly attempt: number;
  readonly runId: string;
  /** The job's working directory; this attempt works in `attempt-<n>/` under it. */
  readonly runDir: string;
  /** The job's committed collect() records: this attempt adds what its checkpoints commit. */
  readonly collected: Record<string, unknown[]>;
  readonly checkpointing: {
    readonly dir: string;
    readonly nextId: () => number;
    /** The checkpoint this attempt starts from, verified; null for a fresh start. */
    readonly restore: RestorableCheckpoint | null;
    readonly identity: CheckpointingSpec['identity'];
    readonly stats: (s: CheckpointStats) => void;
    /** A stop-with-savepoint completed (before anything commits): the job records where to resume. */
    readonly stoppedWith?: (p: { id: number; path: string }) => void;
  } | null;
}

export interface AttemptResult {
  readonly operators: Record<string, OperatorCounts>;
  /** Records of each collect() sink, this attempt's only: a failed attempt's never reach the caller. */
  readonly collected: Record<string, unknown[]>;
  readonly peakOverdraftBytes: number;
  /** The savepoint the attempt stopped with (stopWithSavepoint), or null. */
  readonly savepoint: CheckpointStats | null;
}

// The coordinator names the worker entry by URL and never imports it: actors/ builds on core/.
const here = import.meta.url;
/** How long a slot's result waits for its port's 'end' (a safety net: it comes right after the last message). */
const END_WAIT_MS = 5000;
/** Where the bundled build puts the worker entry, relative to the chunk this code lands in (set by the build; see package.json). */
declare const __WEIR_WORKER_ENTRY__: string | undefined;
const WORKER_URL = typeof __WEIR_WORKER_ENTRY__ === 'string'
  ? new URL(__WEIR_WORKER_ENTRY__, here).href
  : new URL(`../../actors/runtime/worker-entry${here.endsWith('.ts') ? '.ts' : '.js'}`, here).href;

const CANCEL_GRACE_MS = 2000;

/**
 * Slots kept warm between jobs of this process, as a Flink session cluster keeps its task
 * managers: the pool of an attempt that ended well (its sources finished: no failure, cancel
 * or stop) waits `warmSlotsMs` for the next attempt of the same shape (thread count and heap
 * limit), which then starts no threads and loads no weir modules in them (BENCHMARKS.md,
 * start-up). A pool that saw anything else is destroyed, as before: nothing of a failed
 * attempt survives it. In a warm worker each job imports its module afresh (the URL gets a
 * fragment of its own), so the job's top-level state starts anew; modules the job imports
 * stay loaded, as in any long-lived process. Idle pool threads do not keep the process
 * alive. A job with warmSlotsMs 0 neither takes warm threads nor leaves any.
 */
interface ParkedPool { readonly pool: Piscina; readonly shape: string; readonly timer: NodeJS.Timeout; readonly onError: (err: Error) => void }
const parked: ParkedPool[] = [];
let warmJobs = 0;

function poolShape(slots: number, workerHeapMb: number | undefined): string {
  return `${slots}:${workerHeapMb ?? ''}`;
}

/** A parked pool of this shape, or null. */
function takeWarmPool(shape: string): Piscina | null {
  const i = parked.findIndex((p) => p.shape === shape);
  if (i < 0) return null;
  const [p] = parked.splice(i, 1);
  clearTimeout(p!.timer);
  p!.pool.off('error', p!.onError);
  return p!.pool;
}

function parkPool(pool: Piscina, shape: string, ms: number): void {
  const discard = () => {
    const i = parked.findIndex((p) => p.pool === pool);
    if (i < 0) return;
    parked.splice(i, 1);
    pool.off('error', onError);
    void pool.destroy();
  };
  // A worker that fails while parked (something a job left running) takes its pool with it; no job is there to fail.
  const onError = (err: Error) => {
    process.emitWarning(`a warm worker failed between jobs (its threads are discarded): ${err.message}`, 'WeirWarning');
    discard();
  };
  pool.on('error', onError);
  const timer = setTimeout(discard, ms);
  timer.unref();
  parked.push({ pool, shape, timer, onError });
}
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Everything a zombie of this attempt could still touch (ring headers, doorbells, the
 * control word, LMDB environments) belongs to this attempt alone, and `done` settles only
 * once its pool is destroyed: the next attempt never shares memory or files with it. The one
 * exception has no zombies: when every slot returned because the sources finished, the
 * threads are idle, and their pool is parked for the next job (warm slots, above).
 */
export class Attempt {
  readonly done: Promise<AttemptResult>;
  private readonly control: Int32Array;
  private readonly doorbells: SharedArrayBuffer[];
  private failure: WeirError | null = null;
  private readonly checkpoints: CheckpointCoordinator | null;
  /** Records emitted by sources, per slot (one writer each): the live progress. */
  private readonly progress: Float64Array;
  private failed!: () => void;
  /** The stop-with-savepoint that completed: the subtasks commit and end. */
  private suspended: CheckpointStats | null = null;
  /** A drained stop-with-savepoint waiting for every subtask to finish. */
  private drainTo: { dir: string; resolve: (s: CheckpointStats) => void; reject: (e: Error) => void } | null = null;

  constructor(spec: AttemptSpec) {
    const { plan: p, options } = spec;
    this.progress = new Float64Array(new SharedArrayBuffer(8 * p.slots));
    this.doorbells = Array.from({ length: p.slots + 1 }, () => new SharedArrayBuffer(DOORBELL_BYTES));
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.control = new Int32Array(control);
    const controlWords = this.control;
    const finishedWords = new SharedArrayBuffer(4 * p.tasks.reduce((n, t) => n + t.parallelism, 0));
    const finishedFlags = new Int32Array(finishedWords);
    const rings: Record<string, SharedArrayBuffer> = {};
    for (const key of ringKeysOf(p.edges)) rings[key] = allocateRing(options.ringCapacity);
    const collect = new CollectReader(new Doorbell(this.doorbells[p.slots]!), spec.collected);
    for (const node of spec.graph.nodes) {
      if (node.kind !== 'sink:collect') continue;
      const task = p.taskOf.get(node.uid)!;
      for (let s = 0; s < task.parallelism; s++) {
        const sab = allocateRing(options.ringCapacity);
        rings[collectRingKey(node.uid, s)] = sab;
        collect.add(node.uid, subtaskKey(task.id, s), sab, this.doorbells[s]!);
      }
    }
    const cp = spec.checkpointing;
    const checkpoints = cp === null ? null : new CheckpointCoordinator({
      dir: cp.dir, options, control: this.control, ringAll: () => this.ringAll(), nextId: cp.nextId, identity: cp.identity,
      subtasks: p.tasks.flatMap((t) => Array.from({ length: t.parallelism }, (_, s) => subtaskKey(t.id, s))),
      finished: (taskId, subtask) => Atomics.store(finishedFlags, subtaskIndex(p.tasks, taskId, subtask), 1),
      completed: (stats, finished) => {
        collect.commit(stats.id, finished);
        if (stats.kind === 'savepoint') this.suspended = stats;
        cp.stats(stats);
      },
      stats: (stats) => cp.stats(stats),
      stoppedWith: cp.stoppedWith,
      failed: (stats) => cp.stats(stats),
      failover: (err) => this.fail(err),
    });
    this.checkpoints = checkpoints;
    const attemptDir = join(spec.runDir, `attempt-${spec.attempt}`);
    const shape = poolShape(p.slots, options.workerHeapMb);
    const warm = options.warmSlotsMs > 0 ? takeWarmPool(shape) : null;
    const pool = warm ?? new Piscina({
      filename: WORKER_URL, minThreads: p.slots, maxThreads: p.slots, idleTimeout: 60_000,
      concurrentTasksPerWorker: 1, atomics: 'disabled',
      // The process's environment itself, not a copy made when the thread started: a job on warm
      // slots read the variables of the job that started them.
      env: SHARE_ENV,
      ...(options.workerHeapMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: options.workerHeapMb } } : {}),
    });
    // A warm worker has this job's module cached from its last job (or another job's): a fresh instance.
    const workerJobUrl = warm === null ? spec.jobUrl : `${spec.jobUrl.replace(/#.*$/, '')}#weir-job-${++warmJobs}`;
    const counts: Record<string, OperatorCounts> = {};
    let peakOverdraftBytes = 0;
    const failedOnce = new Promise<void>((r) => { this.failed = r; });
    // An error after a task returned reaches the pool, not the task: without a listener it
    // would crash the process.
    const onPoolError = (err: Error) => this.fail(new WeirError(`a worker failed: ${err.message}`, { cause: err }));
    pool.on('error', onPoolError);

    const tasks = Array.from({ length: p.slots }, (_, slot) => {
      const { port1, port2 } = new MessageChannel();
      // The slot's result and its port messages travel apart: an acknowledgement sent just
      // before the slot returned may still be on its way when the result is in. The port is
      // closed once its 'end' has come (or the worker is gone).
      let endSeen = () => {};
      const ended = new Promise<void>((resolve) => { endSeen = resolve; });
      port1.on('message', (m: WorkerMessage) => {
        if (m.type === 'end') endSeen();
        else if (m.type === 'warning') process.emitWarning(m.message, 'WeirWarning');
        else {
          try {
            checkpoints?.handle(m);
          } catch (err) {
            this.fail(err instanceof WeirError ? err : new WeirError(`checkpoint coordination failed: ${(err as Error).message}`, { cause: err }));
          }
        }
      });
      const deploy: DeployMessage = {
        jobUrl: workerJobUrl, options, slot, attempt: spec.attempt, runId: spec.runId, signatures: p.signatures,
        doorbells: this.doorbells, control, rings, port: port2, runDir: attemptDir, progress: this.progress.buffer as SharedArrayBuffer,
        checkpointDir: cp?.dir, finished: finishedWords,
        restore: cp?.restore == null ? undefined
          : { files: cp.restore.files, tasks: cp.restore.metadata.tasks, edges: cp.restore.metadata.edges, stateBackend: cp.restore.metadata.stateBackend },
      };
      return pool.run(deploy, { transferList: [port2] })
        .then(async (m: SlotResult) => {
          await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, END_WAIT_MS).unref())]);
          if (m.type === 'failed') return this.fail(errorFromReport(m.report));
          peakOverdraftBytes = Math.max(peakOverdraftBytes, m.peakOverdraftBytes);
          for (const [uid, c] of Object.entries(m.counts)) {
            const sum = (counts[uid] ??= { name: c.name, recordsIn: 0, recordsOut: 0 });
            sum.recordsIn += c.recordsIn;
            sum.recordsOut += c.recordsOut;
            for (const [name, n] of Object.entries(c.metrics ?? {})) (sum.metrics ??= {})[name] = (sum.metrics[name] ?? 0) + n;
          }
        })
        .catch((err: Error) => this.fail(new WeirError(`worker for slot ${slot} died: ${err.message}`, { cause: err })))
        .finally(() => port1.close());
    });

    const collecting = collect.run();
    checkpoints?.start();
    this.done = (async (): Promise<AttemptResult> => {
      const all = Promise.all(tasks);
      // After a failure, workers get a moment to see the cancel word; one stuck in user code is
      // then terminated by destroy().
      await Promise.race([all, failedOnce.then(() => Promise.race([all, delay(CANCEL_GRACE_MS)]))]);
      // In this order: a checkpoint may complete until its coordinator stops, and the reader
      // must have read the barriers that completion commits (collect.ts, run).
      checkpoints?.stop(this.failure?.message);
      collect.stop();
      await collecting;
      // A bounded job that ended well: what its sinks hold after their last checkpoint is output too.
      // Not after a stop-with-savepoint: what came after it is the resumed job's to emit.
      if (this.failure === null && this.suspended === null) collect.commitAll();
      pool.off('error', onPoolError);
      if (options.warmSlotsMs > 0 && this.failure === null && this.suspended === null && this.drainTo === null
          && Atomics.load(controlWords, STOP) === STOP_RUN) {
        parkPool(pool, shape, options.warmSlotsMs);
      } else {
        // Workers that did not answer a cancel (a user function that never returns) are killed.
        await pool.destroy();
      }
      await rm(attemptDir, { recursive: true, force: true });
      if (this.failure !== null) {
        this.drainTo?.reject(this.failure);
        throw this.failure;
      }
      // A drained stop: every subtask finished, and their final states are the savepoint.
      let savepoint = this.suspended;
      if (this.drainTo !== null) {
        try {
          savepoint = checkpoints!.savepointFromFinals(this.drainTo.dir);
          spec.checkpointing?.stoppedWith?.({ id: savepoint.id, path: savepoint.path });
          this.drainTo.resolve(savepoint);
        } catch (err) {
          this.drainTo.reject(err as Error);
          throw err;
        }
      }
      return { operators: counts, collected: collect.records, peakOverdraftBytes, savepoint };
    })();
    this.done.catch(() => {});
  }

  /** Records the sources of this attempt emitted so far. */
  recordsEmitted(): number {
    let n = 0;
    for (const v of this.progress) n += v;
    return n;
  }

  /** A savepoint into `dir`; with `stop`, the job stops with it (without draining). Null when this attempt does not checkpoint. */
  savepoint(dir: string, stop: boolean): Promise<CheckpointStats> | null {
    return this.checkpoints?.savepoint(dir, stop) ?? null;
  }

  /** Drains the job (sources end their input, everything is processed), then writes its final state as a savepoint into `dir`. */
  stopWithDrain(dir: string): Promise<CheckpointStats> | null {
    if (this.checkpoints === null) return null;
    const p = new Promise<CheckpointStats>((resolve, reject) => { this.drainTo = { dir, resolve, reject }; });
    this.stop();
    return p;
  }

  /** Triggers a checkpoint now; null when this attempt does not checkpoint. */
  triggerCheckpoint(): Promise<CheckpointStats> | null {
    return this.checkpoints?.triggerNow() ?? null;
  }

  private ringAll(): void {
    for (const b of this.doorbells) new Doorbell(b).ring();
  }

  /** The first failure wins; every actor sees the cancel word at its next step. */
  fail(err: WeirError): void {
    if (this.failure !== null) return;
    this.failure = err;
    Atomics.store(this.control, STOP, STOP_CANCEL);
    this.ringAll();
    this.failed();
  }

  /** Sources end their input; never turns a cancel (or a failure) back into a graceful stop. */
  stop(): void {
    Atomics.compareExchange(this.control, STOP, STOP_RUN, STOP_GRACEFUL);
    this.ringAll();
  }
}
