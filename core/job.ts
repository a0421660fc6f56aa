// Jobs are modules: defineJob wraps the builder that the coordinator and every worker run.
import { fileURLToPath } from 'node:url';
import { WeirError } from './errors.ts';
import { ownCodeDirs } from './cli/package-info.ts';
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

/** Imports a job module and returns its job; errors name the module, and the import or line that failed. */
export async function loadJob(url: string): Promise<JobDefinition> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(url);
  } catch (err) {
    throw loadError(url, err);
  }
  const job = mod['default'];
  if (!isJob(job)) {
    const named = Object.entries(mod).find(([, v]) => isJob(v))?.[0];
    throw new WeirError(`job module ${url} exports no default job${named ? ` (it exports '${named}', but only the default export is run)` : ''}: `
      + 'use `export default defineJob((env) => { ... })`');
  }
  return job;
}

function loadError(url: string, err: unknown): WeirError {
  const e = err as { code?: string; url?: string; message?: string; stack?: string };
  const message = String(e.message ?? err);
  if (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'ERR_UNSUPPORTED_DIR_IMPORT') {
    // Node names the importing file after 'imported from': the job itself is missing only
    // when nothing imported it, that is when the URL it could not find is the job's own.
    const missing = e.url ?? /Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1];
    const from = / imported from (.+)$/.exec(message)?.[1];
    if (missing !== undefined && sameFile(missing, url)) return new WeirError(`job module not found: ${url}`, { cause: err });
    const what = / package /.test(message) ? 'package' : 'module';
    return new WeirError(`job module ${url} failed to load: ${what} '${/Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1] ?? missing}' `
      + `imported from ${from ?? url} was not found${what === 'package' ? ' (is it installed?)' : ''}`, { cause: err });
  }
  if (e.code === 'ERR_INVALID_TYPESCRIPT_SYNTAX' || e.code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' || err instanceof SyntaxError) {
    const where = syntaxLocation(e.stack ?? '');
    if (where !== undefined) {
      return new WeirError(`job module ${url} failed to load: ${message.split('\n')[0]} at ${where.file}:${where.line}:${where.column}\n${where.excerpt}`,
        { cause: err });
    }
  }
  return new WeirError(`job module ${url} failed to load: ${message}`, { cause: err });
}

function sameFile(a: string, url: string): boolean {
  const path = (s: string) => (s.startsWith('file:') ? fileURLToPath(s) : s);
  try {
    return path(a) === path(url);
  } catch {
    return a === url;
  }
}

/** Node puts a syntax error's place at the top of its stack: `file:///job.ts:2`, lines around it, a caret line. */
function syntaxLocation(stack: string): { file: string; line: number; column: number; excerpt: string } | undefined {
  const lines = stack.split('\n');
  const m = /^(file:\/\/\S+|\/\S+):(\d+)$/.exec(lines[0] ?? '');
  const caret = lines.findIndex((l, i) => i > 1 && /^\s*\^+\s*$/.test(l));
  if (m === null || caret < 0) return undefined;
  return {
    file: m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!, line: Number(m[2]), column: lines[caret]!.indexOf('^') + 1,
    excerpt: `  ${lines[caret - 1]}\n  ${lines[caret]}`,
  };
}

let own: string[] | undefined;

/**
 * What the builder threw, as a WeirError naming the place in the job's own code where it was
 * thrown (the first frame of its stack outside weir and Node), with the error as its cause:
 * a ReferenceError from a missing import, say, is then reported with its file and line, and
 * the CLI prints the user's frames under it. weir's own errors (a misused API) pass as they are.
 */
function builderError(err: unknown): unknown {
  if (err instanceof WeirError || !(err instanceof Error)) return err;
  const where = userFrame(err.stack ?? '', (own ??= ownCodeDirs()));
  return new WeirError(`the job's builder failed${where === undefined ? '' : ` at ${where}`}: ${err.name}: ${err.message}`, { cause: err });
}

/**
 * The first frame of a V8 stack in a file outside `skip` (directories) and outside Node, as
 * `path:line:column`: `at f (file:///a.ts:1:2)`, `at file:///a.ts:1:2`, `at async f (/a.ts:1:2)`,
 * paths with spaces or parentheses, URLs with a query or a hash (left out).
 */
export function userFrame(stack: string, skip: readonly string[]): string | undefined {
  for (const raw of stack.split('\n')) {
    const line = raw.trimEnd();
    // Code made by eval or new Function has no file of its own to name.
    if (!/^\s*at /.test(line) || /\beval at /.test(line)) continue;
    let start = line.indexOf('file://');
    if (start < 0) {
      const m = /^\s*at (?:async )?(?:.*? \()?\//.exec(line);
      if (m === null) continue;
      start = m[0].length - 1;
    }
    let location = line.slice(start);
    if (line[start - 1] === '(' && location.endsWith(')')) location = location.slice(0, -1);
    const m = /^(.*):(\d+):(\d+)$/.exec(location);
    if (m === null) continue;
    let file = m[1]!;
    try {
      if (file.startsWith('file:')) file = fileURLToPath(file);
    } catch {
      continue;
    }
    if (skip.some((d) => file.startsWith(d))) continue;
    return `${file}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

/** Runs the builder and names the operators; the same in the coordinator and in every worker. */
export function buildGraph(job: JobDefinition, overrides: Partial<JobOptions>): { env: StreamExecutionEnvironment; warnings: string[] } {
  const env = new StreamExecutionEnvironment(overrides);
  let result: unknown;
  try {
    result = job.build(env);
  } catch (err) {
    throw builderError(err);
  }
  if (result instanceof Promise) throw new WeirError('the job builder must be synchronous: it runs again in every worker');
  if (env.graph.nodes.length === 0) throw new WeirError('the job defines no operators');
  const warnings = assignUids(env.graph);
  return { env, warnings };
}
