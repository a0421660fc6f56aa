// submit(): the coordinator on the calling thread: plans the job, deploys one task per slot, gathers results.
import { rm, rmdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Doorbell, DOORBELL_BYTES } from '../channel/doorbell.ts';
import { allocateRing } from '../channel/ring.ts';
import { errorFromReport, WeirError } from '../errors.ts';
import { collectRingKey, ringKeysOf } from '../graph/channels.ts';
import { plan } from '../graph/plan.ts';
import { buildGraph, loadJob } from '../job.ts';
import { validateOptions } from '../options.ts';
import { finishedParts, newRunId, prepareSinkDirectory } from '../sinks/part-files.ts';
import type { ExistingFiles } from '../sinks/part-files.ts';
import type { JobOptions } from '../options.ts';
import { CollectReader } from './collect.ts';
import { CONTROL_BYTES, STOP, STOP_CANCEL, STOP_GRACEFUL, STOP_RUN } from './deploy.ts';
import type { DeployMessage, OperatorCounts, SlotResult, WorkerMessage } from './deploy.ts';

export interface JobResult {
  /** Records in and out of each operator, summed over its subtasks, by uid. */
  readonly operators: Record<string, OperatorCounts>;
  /** Records of each collect() sink, by its uid. */
  readonly collected: Record<string, unknown[]>;
  readonly durationMs: number;
  /** The largest overdraft any channel held, in bytes: the memory bound under backpressure, metered. */
  readonly peakOverdraftBytes: number;
  /** Where each file sink wrote (absolute), and the part files this run finished there, by uid. */
  readonly fileSinks: Record<string, { dir: string; files: string[] }>;
}

export interface JobHandle {
  readonly plan: { readonly slots: number; readonly fingerprint: string; readonly warnings: readonly string[] };
  /** Resolves when a bounded job ends; rejects with a WeirError naming operator and subtask on failure. */
  readonly done: Promise<JobResult>;
  /** Sources end their input; everything in flight is processed; `done` resolves. */
  stop(): Promise<JobResult>;
  /** Stops at once; `done` rejects with a cancellation error. */
  cancel(): Promise<void>;
}

// The coordinator names the worker entry by URL and never imports it: actors/ builds on core/.
const here = import.meta.url;
const WORKER_URL = new URL(`../../actors/runtime/worker${here.endsWith('.ts') ? '.ts' : '.js'}`, here).href;

const CANCEL_GRACE_MS = 2000;
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export function jobUrlOf(job: URL | string): string {
  if (job instanceof URL) return job.href;
  if (/^[a-z]+:\/\//i.test(job)) return job;
  return pathToFileURL(isAbsolute(job) ? job : resolve(job)).href;
}

export async function submit(job: URL | string, options: Partial<JobOptions> = {}): Promise<JobHandle> {
  const given = validateOptions(options as Record<string, unknown>);
  const jobUrl = jobUrlOf(job);
  const definition = await loadJob(jobUrl);
  const { env, warnings } = buildGraph(definition, given);
  const resolved = env.resolvedOptions();
  const p = plan(env.graph, resolved);
  // Accepted and validated so jobs written for what comes next run today; never silently.
  if (resolved.fromSavepoint !== undefined) {
    throw new WeirError(`option 'fromSavepoint': restoring savepoints is not supported yet (${resolved.fromSavepoint})`);
  }
  if (resolved.checkpointInterval > 0) {
    warnings.push(`option 'checkpointInterval' is set, but checkpoints are not taken yet: this run has no fault tolerance`);
  }
  for (const w of warnings) process.emitWarning(w, 'WeirWarning');
  const runId = newRunId();
  const fileSinks = env.graph.nodes.filter((n) => n.kind === 'sink:file')
    .map((n) => ({ uid: n.uid, dir: resolve(n.params['dir'] as string), existing: n.params['existing'] as ExistingFiles }));
  for (const s of fileSinks) prepareSinkDirectory(s.dir, s.uid, s.existing);

  const doorbells = Array.from({ length: p.slots + 1 }, () => new SharedArrayBuffer(DOORBELL_BYTES));
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const controlWords = new Int32Array(control);
  const rings: Record<string, SharedArrayBuffer> = {};
  for (const key of ringKeysOf(p.edges)) rings[key] = allocateRing(resolved.ringCapacity);
  const collect = new CollectReader(new Doorbell(doorbells[p.slots]!));
  for (const node of env.graph.nodes) {
    if (node.kind !== 'sink:collect') continue;
    const parallelism = p.taskOf.get(node.uid)!.parallelism;
    for (let s = 0; s < parallelism; s++) {
      const sab = allocateRing(resolved.ringCapacity);
      rings[collectRingKey(node.uid, s)] = sab;
      collect.add(node.uid, sab, doorbells[s]!);
    }
  }

  const runDir = join(resolve(resolved.workDir), `run-${p.fingerprint}-${process.pid}-${Date.now()}`);
  const pool = new Piscina({
    filename: WORKER_URL, minThreads: p.slots, maxThreads: p.slots, idleTimeout: 60_000,
    concurrentTasksPerWorker: 1, atomics: 'disabled',
    ...(resolved.workerHeapMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: resolved.workerHeapMb } } : {}),
  });
  const started = performance.now();
  const counts: Record<string, OperatorCounts> = {};
  let peakOverdraftBytes = 0;
  let failure: WeirError | null = null;
  let failed!: () => void;
  const failedOnce = new Promise<void>((r) => { failed = r; });
  const ringAll = () => { for (const b of doorbells) new Doorbell(b).ring(); };
  const fail = (err: WeirError) => {
    if (failure !== null) return;
    failure = err;
    Atomics.store(controlWords, STOP, STOP_CANCEL);
    ringAll();
    failed();
  };
  // An error after a task returned reaches the pool, not the task: without a listener it
  // would crash the process.
  pool.on('error', (err: Error) => fail(new WeirError(`a worker failed: ${err.message}`, { cause: err })));

  const tasks = Array.from({ length: p.slots }, (_, slot) => {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: WorkerMessage) => {
      if (m.type === 'warning') process.emitWarning(m.message, 'WeirWarning');
    });
    const deploy: DeployMessage = {
      jobUrl, options: resolved, slot, attempt: 0, runId, signatures: p.signatures, doorbells, control, rings, port: port2, runDir,
    };
    return pool.run(deploy, { transferList: [port2] })
      .then((m: SlotResult) => {
        if (m.type === 'failed') return fail(errorFromReport(m.report));
        peakOverdraftBytes = Math.max(peakOverdraftBytes, m.peakOverdraftBytes);
        for (const [uid, c] of Object.entries(m.counts)) {
          const sum = (counts[uid] ??= { name: c.name, recordsIn: 0, recordsOut: 0 });
          sum.recordsIn += c.recordsIn;
          sum.recordsOut += c.recordsOut;
        }
      })
      .catch((err: Error) => fail(new WeirError(`worker for slot ${slot} died: ${err.message}`, { cause: err })))
      .finally(() => port1.close());
  });

  const collecting = collect.run(() => failure !== null);
  const done = (async (): Promise<JobResult> => {
    const all = Promise.all(tasks);
    // After a failure, workers get a moment to see the cancel word; one stuck in user code is
    // then terminated by destroy().
    await Promise.race([all, failedOnce.then(() => Promise.race([all, delay(CANCEL_GRACE_MS)]))]);
    collect.stop();
    await collecting;
    // Workers that did not answer a cancel (a user function that never returns) are killed.
    await pool.destroy();
    await rm(runDir, { recursive: true, force: true });
    // The working directory itself goes too when this run was all it held.
    await rmdir(resolve(resolved.workDir)).catch(() => {});
    if (failure !== null) throw failure;
    return {
      operators: counts, collected: collect.records, durationMs: performance.now() - started, peakOverdraftBytes,
      fileSinks: Object.fromEntries(fileSinks.map((s) => [s.uid, { dir: s.dir, files: finishedParts(s.dir, s.uid, runId) }])),
    };
  })();
  done.catch(() => {});

  return {
    plan: { slots: p.slots, fingerprint: p.fingerprint, warnings },
    done,
    async stop() {
      // Never turns a cancel (or a failure) back into a graceful stop.
      Atomics.compareExchange(controlWords, STOP, STOP_RUN, STOP_GRACEFUL);
      ringAll();
      return done;
    },
    async cancel() {
      fail(new WeirError('the job was cancelled'));
      await done.catch(() => {});
    },
  };
}
