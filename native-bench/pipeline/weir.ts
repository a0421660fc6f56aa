// Runs one of the bench's weir jobs and times it as a user sees it: from submit() until `done` resolves.
import { submit } from '../../core/index.ts';
import type { JobOptions } from '../../core/index.ts';

export interface WeirRun {
  /** Wall time from submit() to `done`: planning, worker start-up, the records, shutdown. */
  readonly ms: number;
  /** What the job reports, from its workers' start. */
  readonly durationMs: number;
  /** Checkpoints it completed. */
  readonly checkpoints: number;
}

/** `expect` maps operator uid to the records it must have taken in: a run that lost records is an error, not a figure. */
export async function runJob(job: string, query: Record<string, string | number>, options: Partial<JobOptions>,
  expect: Record<string, number>): Promise<WeirRun> {
  const url = new URL(`../jobs/${job}.ts`, import.meta.url);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  const started = performance.now();
  const handle = await submit(url, options);
  const result = await handle.done;
  const ms = performance.now() - started;
  for (const [uid, n] of Object.entries(expect)) {
    const got = result.operators[uid]?.recordsIn;
    if (got !== n) throw new Error(`${job} ${url.search}: operator '${uid}' took ${got} records, expected ${n}`);
  }
  return { ms, durationMs: result.durationMs, checkpoints: result.checkpoints.filter((c) => c.status === 'completed').length };
}
