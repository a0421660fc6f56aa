// Checkpoint storage on the file system: chk-<n>/ directories, durable metadata, validation by checksum, retention.
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { EdgeLayout, StateDescriptors, StateFile, TaskLayout } from '../coordinator/deploy.ts';
import { fileChecksumSync, fsyncPath, writeFileDurably } from '../durable.ts';
import { processAlive } from '../process-alive.ts';
import { WeirError } from '../errors.ts';

export const METADATA_FILE = '_metadata';
/**
 * 2: adds kind, tasks, stateBackend and stateful (what restoring at another parallelism, into
 * another backend, or into a changed job needs). Format 1 is still read: it restores into
 * the same job at the same parallelism only.
 */
export const FORMAT_VERSION = 2;
const READABLE_FORMATS = [1, 2];

export interface CheckpointMetadata {
  readonly format: number;
  /** A savepoint (taken on request, aligned, keyed state canonical) or a checkpoint. */
  readonly kind?: 'checkpoint' | 'savepoint';
  readonly id: number;
  /** The job module, and the plan's fingerprint: a directory of another job is refused. */
  readonly job: string;
  readonly fingerprint: string;
  readonly runId: string;
  readonly triggeredAt: number;
  readonly completedAt: number;
  /** Key groups of every task, by task id: fixed at a job's first run. */
  readonly maxParallelism: Readonly<Record<string, number>>;
  /** One state file per subtask (`<task>-<subtask>`), with its size and CRC-32. */
  readonly files: Readonly<Record<string, StateFile>>;
  /** Every keyed state by operator uid: name and `kind<type> ttl=ms` (the savepoint format builds on it). */
  readonly state: StateDescriptors;
  /** The job's tasks by id: parallelism, key groups and operator uids in chain order. */
  readonly tasks?: Readonly<Record<string, TaskLayout>>;
  /** The job's network edges (channel key prefix, consumer uid, partitioner): an edge whose partitioner changed is rescaled. */
  readonly edges?: readonly EdgeLayout[];
  readonly stateBackend?: 'heap' | 'lmdb';
  /** Operator uids with any state: a restore into a job without one of them is refused (allowNonRestoredState). */
  readonly stateful?: readonly string[];
  /** The savepoint (absolute path) the job's lineage started from, if any. */
  readonly origin?: string;
}

export const checkpointPath = (dir: string, id: number) => join(dir, `chk-${id}`);
/** Where a savepoint is staged, beside the checkpoints, until it is complete and moved to its directory. */
export const savepointStaging = (dir: string, id: number) => join(dir, `sp-${id}`);

/** The next id: past every chk-* and staged sp-* on disk, half-written ones included, and past a stop's savepoint. */
export function nextCheckpointId(dir: string): number {
  if (!existsSync(dir)) return 1;
  let max = readResumePointer(dir)?.id ?? 0;
  for (const name of readdirSync(dir)) {
    const m = /^(?:chk|sp)-(\d+)$/.exec(name);
    if (m !== null) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

/**
 * Makes checkpoint `id` complete: the state files of subtasks that had already finished
 * are linked in (every chk-n/ stands alone), every file's checksum is verified, then the
 * metadata is written, fsynced, renamed into place and the directory fsynced. Only a
 * checkpoint whose metadata exists is complete.
 */
/** `finishedFrom`: file names in chk-n/ to link from the final states of finished subtasks. */
export function completeCheckpoint(dir: string, metadata: CheckpointMetadata, finishedFrom: Readonly<Record<string, string>>,
  chk = checkpointPath(dir, metadata.id)): void {
  mkdirSync(chk, { recursive: true });
  for (const [name, source] of Object.entries(finishedFrom)) linkSync(source, join(chk, name));
  for (const f of Object.values(metadata.files)) verifyFile(join(chk, f.name), f);
  const tmp = join(chk, `${METADATA_FILE}.tmp`);
  writeFileDurably(tmp, new TextEncoder().encode(JSON.stringify(metadata, null, 1)));
  renameSync(tmp, join(chk, METADATA_FILE));
  fsyncPath(chk);
  fsyncPath(dir);
}

function verifyFile(path: string, f: StateFile): void {
  let sum: { bytes: number; crc32: number };
  try {
    sum = fileChecksumSync(path);
  } catch (err) {
    throw new WeirError(`checkpoint state file ${path} is missing: ${(err as Error).message}`, { cause: err });
  }
  if (sum.bytes !== f.bytes) throw new WeirError(`checkpoint state file ${path} has ${sum.bytes} bytes, its metadata says ${f.bytes}`);
  if (sum.crc32 !== f.crc32) throw new WeirError(`checkpoint state file ${path} fails its checksum (crc32 ${sum.crc32}, metadata ${f.crc32})`);
}

export interface RestorableCheckpoint {
  readonly id: number;
  readonly path: string;
  readonly metadata: CheckpointMetadata;
  /** Absolute state file paths by subtask key. */
  readonly files: Readonly<Record<string, string>>;
}

/** Reads and verifies chk-<id>: its metadata parses and every state file matches its size and checksum. */
export function readCheckpoint(dir: string, id: number): RestorableCheckpoint {
  return readCheckpointAt(checkpointPath(dir, id), id);
}

/**
 * Reads and verifies a savepoint's or a retained checkpoint's directory, wherever it now is
 * (names in it are relative): every file named in its metadata is checked first, and the
 * error names the one that is damaged.
 */
export function readSavepointDir(path: string): RestorableCheckpoint {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new WeirError(`savepoint directory ${abs} does not exist`, { unrecoverable: true });
  if (!statSync(abs).isDirectory()) throw new WeirError(`savepoint path ${abs} is not a directory`, { unrecoverable: true });
  if (!existsSync(join(abs, METADATA_FILE))) {
    const inside = readdirSync(abs).filter((n) => /^(?:chk|sp)-\d+$/.test(n)).sort();
    throw new WeirError(`${abs} holds no ${METADATA_FILE}: it is not a complete savepoint or checkpoint`
      + (inside.length > 0 ? ` (it holds ${inside.join(', ')}: name one of them)` : ''), { unrecoverable: true });
  }
  try {
    return readCheckpointAt(abs, undefined);
  } catch (err) {
    throw new WeirError((err as Error).message, { cause: err, unrecoverable: true });
  }
}

function readCheckpointAt(path: string, id: number | undefined): RestorableCheckpoint {
  const metaPath = join(path, METADATA_FILE);
  let metadata: CheckpointMetadata;
  try {
    metadata = JSON.parse(readFileSync(metaPath, 'utf8')) as CheckpointMetadata;
  } catch (err) {
    throw new WeirError(`checkpoint metadata ${metaPath} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if (typeof metadata !== 'object' || metadata === null || !READABLE_FORMATS.includes(metadata.format) || (id !== undefined && metadata.id !== id)
    || !Number.isInteger(metadata.id) || typeof metadata.files !== 'object' || metadata.files === null) {
    throw new WeirError(`checkpoint metadata ${metaPath} is not a weir checkpoint of format ${READABLE_FORMATS.join(' or ')}`);
  }
  for (const f of Object.values(metadata.files)) {
    // Names are relative and stay inside the directory: a crafted one cannot point elsewhere.
    if (typeof f?.name !== 'string' || f.name.startsWith('/') || f.name.split(/[\\/]/).includes('..')) {
      throw new WeirError(`checkpoint metadata ${metaPath} names a file outside its directory: ${JSON.stringify(f?.name)}`);
    }
  }
  const files: Record<string, string> = {};
  for (const [key, f] of Object.entries(metadata.files)) {
    const file = join(path, f.name);
    verifyFile(file, f);
    files[key] = file;
  }
  return { id: metadata.id, path, metadata, files };
}

/**
 * Moves a complete staged savepoint into `targetDir`, as `sp-<id>` (or `sp-<id>-<n>` when that
 * is taken): a rename, or a copy where the two are on different file systems. Returns its path.
 */
export function moveSavepoint(staged: string, targetDir: string): string {
  const target = resolve(targetDir);
  mkdirSync(target, { recursive: true });
  let dest = join(target, basename(staged));
  for (let n = 1; existsSync(dest); n++) dest = join(target, `${basename(staged)}-${n}`);
  try {
    renameSync(staged, dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    // Another file system: copied beside its final name, made durable, then renamed, so a
    // crash never leaves a half-copied directory under the savepoint's name.
    const tmp = `${dest}.tmp-${process.pid}`;
    cpSync(staged, tmp, { recursive: true });
    for (const f of readdirSync(tmp, { recursive: true, withFileTypes: true })) if (f.isFile()) fsyncPath(join(f.parentPath, f.name));
    fsyncPath(tmp);
    renameSync(tmp, dest);
    rmSync(staged, { recursive: true, force: true });
  }
  fsyncPath(dest);
  fsyncPath(dirname(dest));
  return dest;
}

/**
 * Savepoints left staged in a checkpoint directory by a process that died while taking them:
 * half-written ones are removed; one that completed but was not moved is left, and named.
 */
export function clearStagedSavepoints(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const notes: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!/^sp-\d+$/.test(name)) continue;
    const path = join(dir, name);
    if (existsSync(join(path, METADATA_FILE))) notes.push(`savepoint ${path} completed but was never moved to where it was asked for: restore it from there`);
    else rmSync(path, { recursive: true, force: true });
  }
  return notes;
}

/** Left in a checkpoint directory by a stop-with-savepoint: the same command resumes from that savepoint. */
export const RESUME_POINTER = '_savepoint';
export interface ResumePointer { readonly id: number; readonly path: string }

/** Written whole or not at all: a temporary file, fsynced, renamed into place, the directory fsynced. */
export function writeResumePointer(dir: string, p: ResumePointer): void {
  const tmp = join(dir, `${RESUME_POINTER}.tmp`);
  writeFileDurably(tmp, new TextEncoder().encode(`${JSON.stringify(p)}\n`));
  renameSync(tmp, join(dir, RESUME_POINTER));
  fsyncPath(dir);
}

export function readResumePointer(dir: string): ResumePointer | null {
  const file = join(dir, RESUME_POINTER);
  if (!existsSync(file)) return null;
  let p: ResumePointer;
  try {
    p = JSON.parse(readFileSync(file, 'utf8')) as ResumePointer;
  } catch (err) {
    throw new WeirError(`${file} (left by a stop-with-savepoint) cannot be read: ${(err as Error).message}`, { unrecoverable: true });
  }
  if (!Number.isInteger(p?.id) || typeof p.path !== 'string') throw new WeirError(`${file} (left by a stop-with-savepoint) is malformed`, { unrecoverable: true });
  return p;
}

/** Ids of the directories that hold metadata (complete, as far as a listing can tell), newest first. */
export function completeCheckpointIds(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const m = /^chk-(\d+)$/.exec(name);
    return m !== null && existsSync(join(dir, name, METADATA_FILE)) ? [Number(m[1])] : [];
  }).sort((a, b) => b - a);
}

/**
 * The newest checkpoint that verifies. Damaged ones are skipped, each named in `skipped`,
 * for the previous complete one; none at all while some were damaged is an error.
 */
export function latestValidCheckpoint(dir: string): { checkpoint: RestorableCheckpoint | null; skipped: string[] } {
  const skipped: string[] = [];
  for (const id of completeCheckpointIds(dir)) {
    try {
      return { checkpoint: readCheckpoint(dir, id), skipped };
    } catch (err) {
      skipped.push((err as Error).message);
    }
  }
  if (skipped.length > 0) {
    throw new WeirError(`no checkpoint in ${dir} can be restored: ${skipped.join('; ')}`);
  }
  return { checkpoint: null, skipped };
}

/** Deletes complete checkpoints beyond the newest `keep`, and directories older than the newest complete one that never completed. */
export function retainCheckpoints(dir: string, keep: number): void {
  const complete = completeCheckpointIds(dir);
  const newest = complete[0];
  if (newest === undefined) return;
  const kept = new Set(complete.slice(0, keep));
  for (const name of readdirSync(dir)) {
    const m = /^chk-(\d+)$/.exec(name);
    if (m === null) continue;
    const id = Number(m[1]);
    if (!kept.has(id) && id < newest) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** A finished job's checkpoints go: every chk-*, staged sp-*, the finished subtasks' states and an old resume pointer; nothing else. */
export function discardCheckpoints(dir: string, opts: { readonly keepResumePointer?: boolean } = {}): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (/^(?:chk|sp)-\d+$/.test(name) || name === 'finished' || (name === RESUME_POINTER && opts.keepResumePointer !== true)) {
      rmSync(join(dir, name), { recursive: true, force: true });
    }
  }
}

export const LOCK_FILE = '_weir.lock';
/** Locks this process holds: a pid in a lock file cannot tell two jobs of one process apart. */
const heldHere = new Set<string>();

/**
 * Claims a checkpoint directory for this process: two live jobs on one directory would
 * write the same chk-<n> and resume from each other's checkpoints. A lock left by a process
 * that is gone (killed) is taken over. Returns the release.
 */
export function lockCheckpointDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  if (heldHere.has(path)) throw new WeirError(`checkpoint directory ${dir} is in use by another job of this process (${path})`, { unrecoverable: true });
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      heldHere.add(path);
      return () => { heldHere.delete(path); rmSync(path, { force: true }); };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new WeirError(`checkpoint directory ${dir} is in use by a running job (process ${pid}, ${path})`, { unrecoverable: true });
      }
      rmSync(path, { force: true });
    }
  }
  throw new WeirError(`could not lock checkpoint directory ${dir} (${path})`);
}
