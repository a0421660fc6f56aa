// The control endpoint of a running `weir run`: a Unix socket in a per-user runtime directory, and its clients.
//
// Each `weir run` listens on <runtime dir>/<job id>.sock and describes itself in <job id>.json.
// The runtime directory is $WEIR_RUNTIME_DIR, else $XDG_RUNTIME_DIR/weir, else
// <tmpdir>/weir-<uid>; it is created owner-only (0700) and refused if another user owns it.
// The protocol is one JSON request per line and one JSON reply per line:
//   { "cmd": "status" }                                    -> { ok, status }
//   { "cmd": "checkpoint" }                                -> { ok, stats }
//   { "cmd": "savepoint", "dir": d, "stop": b, "drain": b } -> { ok, stats }
//   { "cmd": "cancel" }                                    -> { ok }
// or { ok: false, error } for a request that failed.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobHandle } from '../coordinator/submit.ts';
import { WeirError } from '../errors.ts';
import { processAlive } from '../process-alive.ts';

export interface JobInfo {
  readonly id: string;
  readonly pid: number;
  readonly module: string;
  readonly parallelism: number;
  readonly startedAt: number;
  readonly checkpointDir: string | null;
}

export interface JobStatus extends JobInfo {
  readonly uptimeMs: number;
  readonly recordsEmitted: number;
  readonly lastCheckpoint: { readonly id: number; readonly kind: string; readonly path: string; readonly completedAt: number } | null;
}

const MAX_REQUEST_BYTES = 64 * 1024;
/** How long `status` may take before weir list reports the job as not answering. */
const STATUS_TIMEOUT_MS = 3000;

type Request = { cmd: 'status' } | { cmd: 'checkpoint' } | { cmd: 'cancel' } | { cmd: 'savepoint'; dir: string; stop?: boolean; drain?: boolean };

/** The runtime directory, created owner-only; one another user owns is refused. */
export function runtimeDir(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = process.env['WEIR_RUNTIME_DIR'] ?? (process.env['XDG_RUNTIME_DIR'] ? join(process.env['XDG_RUNTIME_DIR'], 'weir') : join(tmpdir(), `weir-${uid}`));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // lstat: a symlink planted in a shared tmpdir is refused, not followed.
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new WeirError(`the runtime directory ${dir} is not a directory (a symlink?): set WEIR_RUNTIME_DIR`);
  if (process.getuid !== undefined && st.uid !== uid) throw new WeirError(`the runtime directory ${dir} belongs to another user (uid ${st.uid}): set WEIR_RUNTIME_DIR`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}

/** Listens for control requests to `job` until the returned close() is called. */
export async function serveControl(job: JobHandle, info: Omit<JobInfo, 'id' | 'pid' | 'startedAt'>): Promise<{ readonly id: string; close(): void }> {
  const dir = runtimeDir();
  const id = randomBytes(4).toString('hex');
  const socket = join(dir, `${id}.sock`);
  const described: JobInfo = { ...info, id, pid: process.pid, startedAt: Date.now() };
  const handle = async (req: Request): Promise<unknown> => {
    switch (req.cmd) {
      case 'status': return { status: statusOf(described, job) };
      case 'checkpoint': return { stats: await job.triggerCheckpoint() };
      case 'cancel': void job.cancel(); return {};
      case 'savepoint': {
        if (typeof req.dir !== 'string' || req.dir === '') throw new WeirError('a savepoint needs a directory');
        const stats = req.stop === true ? await job.stopWithSavepoint(req.dir, { drain: req.drain === true }) : await job.savepoint(req.dir);
        return { stats };
      }
      default: throw new WeirError(`unknown control request ${JSON.stringify((req as { cmd: unknown }).cmd)}`);
    }
  };
  const server: Server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => {});
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST_BYTES) {
        conn.end(`${JSON.stringify({ ok: false, error: `a control request is at most ${MAX_REQUEST_BYTES} bytes` })}\n`);
        buf = '';
        return;
      }
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let req: Request;
        try {
          req = JSON.parse(line) as Request;
        } catch {
          conn.write(`${JSON.stringify({ ok: false, error: 'a control request is one line of JSON' })}\n`);
          continue;
        }
        handle(req).then((r) => conn.write(`${JSON.stringify({ ok: true, ...(r as object) })}\n`),
          (err: Error) => conn.write(`${JSON.stringify({ ok: false, error: err.message })}\n`));
      }
    });
  });
  await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(socket, () => res()); });
  chmodSync(socket, 0o600);
  writeFileSync(join(dir, `${id}.json`), `${JSON.stringify(described)}\n`, { mode: 0o600 });
  server.unref();
  return {
    id,
    close() {
      server.close();
      rmSync(socket, { force: true });
      rmSync(join(dir, `${id}.json`), { force: true });
    },
  };
}

function statusOf(info: JobInfo, job: JobHandle): JobStatus {
  const done = job.checkpoints().filter((c) => c.status === 'completed');
  const last = done[done.length - 1];
  return {
    ...info, uptimeMs: Date.now() - info.startedAt, recordsEmitted: job.recordsEmitted(),
    lastCheckpoint: last === undefined ? null : { id: last.id, kind: last.kind, path: last.path, completedAt: last.triggeredAt + last.durationMs },
  };
}

/** Sends one request to job `id` and waits for its reply. */
export function request(socket: string, req: Request, timeoutMs = 0): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const conn = connect(socket);
    if (timeoutMs > 0) conn.setTimeout(timeoutMs, () => { conn.destroy(); rej(Object.assign(new WeirError('the job did not answer in time'), { code: 'ETIMEDOUT' })); });
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', rej);
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      conn.end();
      let reply: Record<string, unknown>;
      try {
        reply = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      } catch {
        rej(new WeirError(`the job's control endpoint answered something that is not JSON: ${buf.slice(0, 200)}`));
        return;
      }
      if (reply['ok'] !== true) rej(new WeirError(String(reply['error'])));
      else res(reply);
    });
    conn.on('close', () => rej(new WeirError('the job closed the connection without a reply')));
  });
}

/**
 * The jobs running on this host, by asking each endpoint. An endpoint whose process is
 * gone, or that no longer answers, is stale (its process was killed): it is removed, and
 * named in `removed`.
 */
export async function listJobs(): Promise<{ jobs: JobStatus[]; removed: string[] }> {
  const dir = runtimeDir();
  const jobs: JobStatus[] = [];
  const removed: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const id = name.slice(0, -'.json'.length);
    const socket = join(dir, `${id}.sock`);
    let info: JobInfo | null = null;
    try {
      info = JSON.parse(readFileSync(join(dir, name), 'utf8')) as JobInfo;
    } catch {
      // Half-written by a process that died at once: stale like the rest.
    }
    const alive = info !== null && processAlive(info.pid) && existsSync(socket);
    let answer: JobStatus | 'busy' | null = null;
    if (alive) {
      answer = await request(socket, { cmd: 'status' }, STATUS_TIMEOUT_MS).then((r) => r['status'] as JobStatus, (err: NodeJS.ErrnoException) =>
        // Refused or gone: stale. Slow, with its process alive: left alone and shown as not answering.
        (err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? null : 'busy'));
    }
    if (answer === 'busy') {
      jobs.push({ ...info!, uptimeMs: Date.now() - info!.startedAt, recordsEmitted: -1, lastCheckpoint: null });
      continue;
    }
    const status = answer;
    if (status === null) {
      rmSync(socket, { force: true });
      rmSync(join(dir, name), { force: true });
      removed.push(`${id}${info !== null ? ` (process ${info.pid}, ${info.module})` : ''}`);
      continue;
    }
    jobs.push(status);
  }
  return { jobs, removed };
}

/** The endpoint of the one running job whose id starts with `prefix`. */
export async function findJob(prefix: string): Promise<JobStatus & { socket: string }> {
  const { jobs } = await listJobs();
  const matches = jobs.filter((j) => j.id.startsWith(prefix));
  if (matches.length === 0) {
    throw new WeirError(`no running job ${JSON.stringify(prefix)} on this host${jobs.length > 0 ? ` (running: ${jobs.map((j) => j.id).join(', ')})` : ''}; see weir list`);
  }
  if (matches.length > 1) throw new WeirError(`job id ${JSON.stringify(prefix)} is ambiguous: ${matches.map((j) => j.id).join(', ')}`);
  return { ...matches[0]!, socket: join(runtimeDir(), `${matches[0]!.id}.sock`) };
}
