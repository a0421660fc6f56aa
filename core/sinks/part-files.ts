// File-sink part files: their names, and what a fresh run does with the files an earlier run left in its directory.
import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WeirError } from '../errors.ts';
import { processAlive } from '../process-alive.ts';

/** What a fresh run does with finished part files of another run in its directory. */
export type ExistingFiles = 'fail' | 'overwrite' | 'keep';
export const EXISTING_FILES: readonly ExistingFiles[] = ['fail', 'overwrite', 'keep'];
/** The sink's manifest in its directory: which part files each commit made visible, in order. */
export const MANIFEST = '_weir-manifest.jsonl';

/** A run id names the process that wrote a file, so a live writer is told apart from a crashed one. */
let runs = 0;

/**
 * A run's id: the time, a count of the runs this process started, and the process id. Two
 * jobs submitted in one millisecond by one process (a test suite's, say) got the same id, and
 * the same run directory: their checkpoints were written over each other's.
 */
export function newRunId(): string {
  return `${Date.now().toString(36)}${(runs++).toString(36).padStart(3, '0')}p${process.pid}`;
}

/** `part-<uid>-<runId>-<subtask>-<attempt>-<seq>.jsonl`; `.inprogress` appended until it is committed. */
export function partFileName(uid: string, runId: string, subtask: number, attempt: number, seq: number): string {
  return `part-${uid}-${runId}-${subtask}-${attempt}-${seq}.jsonl`;
}

const PART = /^part-(.+)-([0-9a-z]+p(\d+))-(\d+)-(\d+)-(\d+)\.jsonl(\.inprogress)?$/;

interface PartFile { name: string; uid: string; runId: string; pid: number; subtask: number; finished: boolean }

function partFiles(dir: string): PartFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new WeirError(`cannot read file sink directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return names.flatMap((name) => {
    const m = PART.exec(name);
    return m === null ? [] : [{ name, uid: m[1]!, runId: m[2]!, pid: Number(m[3]), subtask: Number(m[4]), finished: m[7] === undefined }];
  });
}

const alive = (pid: number) => pid === process.pid || processAlive(pid);

/**
 * Before a fresh run (not a restore) writes into `dir`: in-progress files of a crashed run
 * are not output and are removed; finished files of another run refuse the run unless the
 * sink says `overwrite` (they are removed) or `keep`. A directory another live process is
 * writing is refused whatever the setting. Only files named as part files are touched.
 */
export function prepareSinkDirectory(dir: string, uid: string, existing: ExistingFiles): void {
  const abs = resolve(dir);
  const files = partFiles(abs);
  const live = files.find((f) => !f.finished && f.pid !== process.pid && alive(f.pid));
  if (live !== undefined) {
    throw new WeirError(`file sink directory ${abs} is being written by another running job (process ${live.pid}, file ${live.name})`, { uid });
  }
  const finished = files.filter((f) => f.finished);
  if (finished.length > 0 && existing === 'fail') {
    throw new WeirError(`file sink directory ${abs} already holds ${finished.length} finished part file(s) of an earlier run `
      + `(${finished[0]!.name}${finished.length > 1 ? ', ...' : ''}); choose fileSink(dir, { existing: 'overwrite' }) to replace them, `
      + `{ existing: 'keep' } to add beside them, or another directory`, { uid });
  }
  for (const f of files) {
    if (!f.finished || existing === 'overwrite') rmSync(join(abs, f.name), { force: true });
  }
  // The manifest describes the files beside it: it goes with them.
  if (existing === 'overwrite') rmSync(join(abs, MANIFEST), { force: true });
}

/** The part files of one sink that a run finished, by name. */
export function finishedParts(dir: string, uid: string, runId: string): string[] {
  return partFiles(dir).filter((f) => f.finished && f.runId === runId && f.name.startsWith(`part-${uid}-${runId}-`))
    .map((f) => f.name).sort();
}

/**
 * An in-progress part file of this sink and subtask that a restore does not hold: written by
 * a failed attempt of this process, or by a process that is gone. Never a live writer's.
 */
export function isStrayPart(name: string, uid: string, subtask: number): boolean {
  const m = PART.exec(name);
  if (m === null || m[7] === undefined || m[1] !== uid || Number(m[4]) !== subtask) return false;
  const pid = Number(m[3]);
  return pid === process.pid || !alive(pid);
}
