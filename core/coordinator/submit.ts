// submit(): the job on the calling thread: plans it, runs attempts one after another as the restart strategy allows.
import { rm, rmdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decideRestart, NO_RESTARTS_YET } from '../checkpoint/restart-strategy.ts';
import { WeirError } from '../errors.ts';
import { plan } from '../graph/plan.ts';
import { buildGraph, loadJob } from '../job.ts';
import { restartPolicyOf, validateOptions } from '../options.ts';
import type { JobOptions } from '../options.ts';
import { finishedParts, newRunId, prepareSinkDirectory } from '../sinks/part-files.ts';
import type { ExistingFiles } from '../sinks/part-files.ts';
import { Attempt } from './attempt.ts';
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

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
    warnings.push(`option 'checkpointInterval' is set, but checkpoints are not taken yet: a restart starts the job over`);
  }
  for (const w of warnings) process.emitWarning(w, 'WeirWarning');
  const runId = newRunId();
  const fileSinks = env.graph.nodes.filter((n) => n.kind === 'sink:file')
    .map((n) => ({ uid: n.uid, dir: resolve(n.params['dir'] as string), existing: n.params['existing'] as ExistingFiles }));
  for (const s of fileSinks) prepareSinkDirectory(s.dir, s.uid, s.existing);

  const runDir = join(resolve(resolved.workDir), `run-${p.fingerprint}-${process.pid}-${Date.now()}`);
  const policy = restartPolicyOf(resolved);
  const started = performance.now();
  let current: Attempt | null = null;
  let stopping = false;
  let cancelled: WeirError | null = null;
  let wakeRestart: (() => void) | null = null;

  const done = (async (): Promise<JobResult> => {
    let history = NO_RESTARTS_YET;
    try {
      for (let attempt = 0; ; attempt++) {
        current = new Attempt({ jobUrl, graph: env.graph, plan: p, options: resolved, attempt, runId, runDir });
        if (stopping) current.stop();
        try {
          const r = await current.done;
          return {
            ...r, durationMs: performance.now() - started, restarts: history.restarts,
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
        }
      }
    } finally {
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
    async cancel() {
      cancelled ??= new WeirError('the job was cancelled');
      current?.fail(cancelled);
      (wakeRestart as (() => void) | null)?.();
      await done.catch(() => {});
    },
  };
}
