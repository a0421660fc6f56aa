// Jobs are modules: defineJob wraps the builder that the coordinator and every worker run.
import { WeirError } from './errors.ts';
import { StreamExecutionEnvironment } from './api/environment.ts';
import { assignUids } from './graph/uids.ts';
import type { JobOptions } from './options.ts';

const JOB = Symbol.for('weir.job');

export type JobBuilder = (env: StreamExecutionEnvironment) => void;

export interface JobDefinition {
  readonly [JOB]: true;
  readonly build: JobBuilder;
}

/** `export default defineJob((env) => { ... })`: the module is imported by the coordinator and every worker. */
export function defineJob(build: JobBuilder): JobDefinition {
  if (typeof build !== 'function') throw new WeirError('defineJob takes a function (env) => { ... }');
  return { [JOB]: true, build };
}

function isJob(v: unknown): v is JobDefinition {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[JOB] === true;
}

/** Imports a job module and returns its job; errors name the module. */
export async function loadJob(url: string): Promise<JobDefinition> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(url);
  } catch (err) {
    const e = err as { code?: string; url?: string };
    // The module itself is missing (not one it imports): Node names the URL it could not find.
    if (e.code === 'ERR_MODULE_NOT_FOUND' && (e.url === url || String((err as Error).message).includes(url.replace(/^file:\/\//, '')))) {
      throw new WeirError(`job module not found: ${url}`, { cause: err });
    }
    throw new WeirError(`job module ${url} failed to load: ${(err as Error).message}`, { cause: err });
  }
  const job = mod['default'] ?? mod['job'];
  if (!isJob(job)) {
    throw new WeirError(`job module ${url} exports no job: use \`export default defineJob((env) => { ... })\``);
  }
  return job;
}

/** Runs the builder and names the operators; the same in the coordinator and in every worker. */
export function buildGraph(job: JobDefinition, overrides: Partial<JobOptions>): { env: StreamExecutionEnvironment; warnings: string[] } {
  const env = new StreamExecutionEnvironment(overrides);
  const result = job.build(env) as unknown;
  if (result instanceof Promise) throw new WeirError('the job builder must be synchronous: it runs again in every worker');
  if (env.graph.nodes.length === 0) throw new WeirError('the job defines no operators');
  const warnings = assignUids(env.graph);
  return { env, warnings };
}
