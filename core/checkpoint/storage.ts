// Checkpoint storage on the file system: chk-<n>/ directories, durable metadata, validation by checksum, retention.
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { StateDescriptors, StateFile } from '../coordinator/deploy.ts';
import { fsyncPath, writeFileDurably } from '../durable.ts';
import { processAlive } from '../process-alive.ts';
import { WeirError } from '../errors.ts';

export const METADATA_FILE = '_metadata';
export const FORMAT_VERSION = 1;

export interface CheckpointMetadata {
  readonly format: number;
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
}

export const checkpointPath = (dir: string, id: number) => join(dir, `chk-${id}`);

/** The next id: past every chk-* on disk, half-written ones included, so no directory is reused. */
export function nextCheckpointId(dir: string): number {
  if (!existsSync(dir)) return 1;
  let max = 0;
  for (const name of readdirSync(dir)) {
    const m = /^chk-(\d+)$/.exec(name);
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
export function completeCheckpoint(dir: string, metadata: CheckpointMetadata, finishedFrom: Readonly<Record<string, string>>): void {
  const chk = checkpointPath(dir, metadata.id);
  for (const [name, source] of Object.entries(finishedFrom)) linkSync(source, join(chk, name));
  for (const f of Object.values(metadata.files)) verifyFile(join(chk, f.name), f);
  const tmp = join(chk, `${METADATA_FILE}.tmp`);
  writeFileDurably(tmp, new TextEncoder().encode(JSON.stringify(metadata, null, 1)));
  renameSync(tmp, join(chk, METADATA_FILE));
  fsyncPath(chk);
  fsyncPath(dir);
}

function verifyFile(path: string, f: StateFile): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new WeirError(`checkpoint state file ${path} is missing: ${(err as Error).message}`, { cause: err });
  }
  if (bytes.byteLength !== f.bytes) throw new WeirError(`checkpoint state file ${path} has ${bytes.byteLength} bytes, its metadata says ${f.bytes}`);
  const crc = crc32(bytes);
  if (crc !== f.crc32) throw new WeirError(`checkpoint state file ${path} fails its checksum (crc32 ${crc}, metadata ${f.crc32})`);
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
  const path = checkpointPath(dir, id);
  const metaPath = join(path, METADATA_FILE);
  let metadata: CheckpointMetadata;
  try {
    metadata = JSON.parse(readFileSync(metaPath, 'utf8')) as CheckpointMetadata;
  } catch (err) {
    throw new WeirError(`checkpoint metadata ${metaPath} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if (metadata.format !== FORMAT_VERSION || metadata.id !== id || typeof metadata.files !== 'object') {
    throw new WeirError(`checkpoint metadata ${metaPath} is not a weir checkpoint of format ${FORMAT_VERSION}`);
  }
  const files: Record<string, string> = {};
  for (const [key, f] of Object.entries(metadata.files)) {
    const file = join(path, f.name);
    verifyFile(file, f);
    files[key] = file;
  }
  return { id, path, metadata, files };
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

/** A finished job's checkpoints go: every chk-* and the finished subtasks' states; nothing else in the directory. */
export function discardCheckpoints(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (/^chk-\d+$/.test(name) || name === 'finished') rmSync(join(dir, name), { recursive: true, force: true });
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
