// The weir command: run a job module, create a project, print help; exit statuses as a shell expects them.
import { WeirError } from '../errors.ts';
import { optionsHelp, parseCliOptions } from '../options.ts';
import { submit } from '../coordinator/submit.ts';
import type { CheckpointStats } from '../coordinator/checkpointing.ts';
import type { JobResult } from '../coordinator/submit.ts';
import { formatBytes } from '../bytes.ts';
import { INIT_HELP } from './init.ts';
import { inspect, INSPECT_HELP } from './inspect.ts';
import { ownCodeDirs, packageInfo } from './package-info.ts';
import { findJob, listJobs, request, runtimeDir, serveControl } from './control.ts';
import { resolve } from 'node:path';

const USAGE = `usage: weir <command>

  weir run <job-module> [options]   run a job module (export default defineJob(...)) until its
                                    bounded input ends, or until Ctrl-C / SIGTERM stops it
  weir init [dir]                   create a project with an example job and its test
  weir inspect <checkpoint>         what a checkpoint or savepoint holds: state, positions, in-flight records
  weir list                         the jobs running on this host (weir run), with their ids
  weir savepoint <job> <dir> [--stop [--drain]]
                                    take a savepoint of a running job into <dir>; --stop stops the
                                    job with it (--drain: end its input first)
  weir checkpoint <job>             trigger a checkpoint of a running job now
  weir cancel <job>                 cancel a running job
  weir help [command]               this text, or one command's options
  weir --version`;

const RUN_HELP = `usage: weir run <job-module> [options]

Runs a job module on worker threads until its bounded input ends. Options are the job
options in kebab case and override what the module sets; sizes take units (64k, 16MiB).
Relative paths (the module, --work-dir, --checkpoint-dir, file sinks and sources) resolve
against the current directory. The first Ctrl-C or SIGTERM stops the job (sources end
their input, everything in flight is processed), a second one cancels it.

While it runs, the job listens on a control endpoint: a Unix socket in an owner-only runtime
directory ($WEIR_RUNTIME_DIR, else $XDG_RUNTIME_DIR/weir, else <tmpdir>/weir-<uid>), which
weir list, savepoint, checkpoint and cancel use from another shell; <job> is the id (or a
prefix of it) that weir run and weir list print.

Options:
${optionsHelp()}`;

const HELP: Record<string, string> = { run: RUN_HELP, init: INIT_HELP, inspect: INSPECT_HELP };

/** Exit statuses: 0 done, 1 the job failed, 2 the command line was wrong, 128 + n stopped by signal n. */
const SIGNAL_STATUS: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export async function main(argv: string[]): Promise<void> {
  try {
    process.exitCode = await command(argv);
  } catch (err) {
    report(err);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}

class UsageError extends WeirError {}

async function command(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    const pkg = packageInfo();
    console.log(`${pkg.name} ${pkg.version} (weir, Node.js ${process.version})`);
    return 0;
  }
  if (cmd === undefined || cmd === '--help' || cmd === '-h') {
    console.log(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === 'help') {
    const topic = rest[0];
    if (topic !== undefined && HELP[topic] === undefined) throw new UsageError(`no command '${topic}'\n${USAGE}`);
    console.log(topic === undefined ? USAGE : HELP[topic]);
    return 0;
  }
  if (HELP[cmd] !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(HELP[cmd]);
    return 0;
  }
  if (cmd === 'inspect') {
    if (rest.length !== 1 || rest[0]!.startsWith('-')) throw new UsageError(`weir inspect takes one checkpoint directory\n\n${INSPECT_HELP}`);
    console.log(inspect(rest[0]!));
    return 0;
  }
  if (cmd === 'list') return list();
  if (cmd === 'savepoint' || cmd === 'checkpoint' || cmd === 'cancel') return control(cmd, rest);
  if (cmd !== 'run') throw new UsageError(`unknown command '${cmd}'\n${USAGE}`);
  const [jobPath, ...flags] = rest;
  if (jobPath === undefined || jobPath.startsWith('--')) throw new UsageError(`weir run needs a job module\n\n${RUN_HELP}`);
  let options;
  try {
    options = parseCliOptions(flags);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return run(jobPath, options);
}

async function list(): Promise<number> {
  const { jobs, removed } = await listJobs();
  // Jobs of processes that were killed leave endpoints behind: the first few are named, the rest counted.
  for (const r of removed.slice(0, 3)) console.error(`weir: removed the stale endpoint of job ${r}: its process is gone`);
  if (removed.length > 3) console.error(`weir: and ${removed.length - 3} more stale endpoints of jobs whose processes are gone`);
  if (jobs.length === 0) {
    console.error(`no running jobs (endpoints in ${runtimeDir()})`);
    return 0;
  }
  const rows = jobs.map((j) => [j.id, String(j.pid), j.module, String(j.parallelism), `${(j.uptimeMs / 1000).toFixed(0)} s`,
    j.lastCheckpoint === null ? '-' : `${j.lastCheckpoint.kind} ${j.lastCheckpoint.id}, ${((Date.now() - j.lastCheckpoint.completedAt) / 1000).toFixed(0)} s ago`]);
  const head = ['job', 'pid', 'module', 'parallelism', 'uptime', 'last checkpoint'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  return 0;
}

async function control(cmd: 'savepoint' | 'checkpoint' | 'cancel', args: string[]): Promise<number> {
  const positional = args.filter((a) => !a.startsWith('--'));
  const flags = args.filter((a) => a.startsWith('--'));
  const usage = cmd === 'savepoint' ? 'weir savepoint <job> <dir> [--stop [--drain]]' : `weir ${cmd} <job>`;
  const allowed = cmd === 'savepoint' ? ['--stop', '--drain'] : [];
  const bad = flags.find((f) => !allowed.includes(f));
  if (bad !== undefined) throw new UsageError(`weir ${cmd}: unknown option ${bad}\nusage: ${usage}`);
  if (positional.length !== (cmd === 'savepoint' ? 2 : 1)) throw new UsageError(`usage: ${usage}`);
  if (flags.includes('--drain') && !flags.includes('--stop')) throw new UsageError(`weir savepoint: --drain goes with --stop\nusage: ${usage}`);
  const job = await findJob(positional[0]!);
  if (cmd === 'cancel') {
    await request(job.socket, { cmd: 'cancel' });
    console.error(`cancelling job ${job.id} (process ${job.pid})`);
    return 0;
  }
  // Relative to this shell's directory, not the job's.
  const reply = cmd === 'checkpoint' ? await request(job.socket, { cmd: 'checkpoint' })
    : await request(job.socket, { cmd: 'savepoint', dir: resolve(positional[1]!), stop: flags.includes('--stop'), drain: flags.includes('--drain') });
  const stats = reply['stats'] as CheckpointStats;
  console.error(checkpointLine(stats));
  if (cmd === 'savepoint' && flags.includes('--stop')) console.error(`job ${job.id} stops with it; resume with weir run ${job.module} --from-savepoint ${stats.path}`);
  console.log(stats.path);
  return 0;
}

async function run(jobPath: string, options: ReturnType<typeof parseCliOptions>): Promise<number> {
  // On a terminal a live line (records/s, the last checkpoint) is redrawn every second; other lines clear it first.
  const live = process.stderr.isTTY === true;
  const clear = live ? '\r\x1b[K' : '';
  let last: CheckpointStats | null = null;
  const job = await submit(jobPath, options, { onCheckpoint: (s) => { if (s.status === 'completed') last = s; console.error(`${clear}${checkpointLine(s)}`); } });
  // Another shell reaches the job through its control endpoint (weir list / savepoint / cancel).
  const endpoint = await serveControl(job, { module: /^[a-z]+:\/\//i.test(jobPath) ? jobPath : resolve(jobPath), parallelism: job.plan.slots, checkpointDir: options.checkpointDir === undefined ? null : resolve(options.checkpointDir) })
    .catch((err: Error) => { console.error(`weir: no control endpoint (${err.message}): weir list will not show this job`); return null; });
  if (endpoint !== null) console.error(`job ${endpoint.id}: weir savepoint ${endpoint.id} <dir> [--stop], weir cancel ${endpoint.id}`);
  let seen = 0;
  let at = performance.now();
  const ticker = !live ? null : setInterval(() => {
    const now = performance.now();
    const records = job.recordsEmitted();
    const rate = records >= seen ? (records - seen) / ((now - at) / 1000) : 0;
    seen = records;
    at = now;
    const cp = last === null ? 'no checkpoint yet' : `checkpoint ${last.id} ${((Date.now() - last.triggeredAt) / 1000).toFixed(0)} s ago`;
    process.stderr.write(`${clear}${formatRate(rate)} records/s, ${records} so far, ${cp}`);
  }, 1000);
  ticker?.unref();
  let stoppedBy: string | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy === null) {
      stoppedBy = signal;
      console.error(`weir: ${signal}: stopping the job (sources end their input, records in flight are processed); again to cancel`);
      void job.stop().catch(() => {});
    } else {
      console.error(`weir: ${signal} again: cancelling the job`);
      void job.cancel();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await job.done.finally(() => { if (ticker !== null) { clearInterval(ticker); process.stderr.write(clear); } });
    summarize(result);
    if (result.savepoint !== null) {
      console.error(`stopped with savepoint ${result.savepoint.id} after ${(result.durationMs / 1000).toFixed(2)} s: ${result.savepoint.path}`);
      return 0;
    }
    if (stoppedBy !== null) {
      console.error(`stopped by ${stoppedBy} after ${(result.durationMs / 1000).toFixed(2)} s`);
      return SIGNAL_STATUS[stoppedBy] ?? 1;
    }
    console.error(`finished in ${(result.durationMs / 1000).toFixed(2)} s`);
    return 0;
  } catch (err) {
    if (stoppedBy !== null) {
      report(err);
      console.error(`cancelled after ${stoppedBy}`);
      return SIGNAL_STATUS[stoppedBy] ?? 1;
    }
    throw err;
  } finally {
    endpoint?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function checkpointLine(s: CheckpointStats): string {
  if (s.status === 'failed') return `${s.kind} ${s.id} failed after ${s.durationMs.toFixed(0)} ms: ${s.failure}`;
  return `${s.kind} ${s.id} complete in ${s.durationMs.toFixed(0)} ms, ${s.alignment} (sync ${s.syncMs.toFixed(1)} ms, async ${s.asyncMs.toFixed(1)} ms, `
    + `alignment ${s.alignmentMs.toFixed(1)} ms, state ${formatBytes(s.stateBytes)}, in-flight ${formatBytes(s.persistedBytes)}) ${s.path}`;
}

function formatRate(r: number): string {
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}K` : r.toFixed(0);
}


function summarize(result: JobResult): void {
  const rows = Object.entries(result.operators).map(([uid, c]) => [uid, c.name, String(c.recordsIn), String(c.recordsOut)]);
  const head = ['operator', 'kind', 'records in', 'records out'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.error(line(head));
  for (const r of rows) console.error(line(r));
  for (const [uid, records] of Object.entries(result.collected)) {
    // A job run from the command line has no caller to hand collect()'s records to: they are printed.
    for (const r of records) process.stdout.write(`${JSON.stringify(r) ?? String(r)}\n`);
    console.error(`collect '${uid}': ${records.length} record(s), printed to standard output as JSON lines`);
  }
  if (result.restoredFrom !== null) console.error(`the last attempt started from ${result.restoredFrom.path}`);
  if (result.restarts > 0) console.error(`the job was restarted ${result.restarts} time(s) after failures`);
  for (const [uid, s] of Object.entries(result.fileSinks)) {
    console.error(`file sink '${uid}' wrote ${s.files.length} part file(s) in ${s.dir}`);
  }
}

/** The error, then the user's own frames where the failure began in user code. */
function report(err: unknown): void {
  console.error(`weir: ${err instanceof Error ? err.message : String(err)}`);
  const cause = err instanceof Error ? err.cause : undefined;
  if (!(cause instanceof Error) || cause.stack === undefined) return;
  const weirs = ownCodeDirs();
  const frames = cause.stack.split('\n')
    .filter((l) => /^\s+at /.test(l) && !/[( ]node:/.test(l) && !weirs.some((w) => l.includes(w)));
  if (frames.length > 0) console.error(`caused by ${cause.stack.split('\n')[0]}\n${frames.join('\n')}`);
}
