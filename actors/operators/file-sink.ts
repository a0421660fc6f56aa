// The file sink as a two-phase-commit sink: part files of JSON lines, one per subtask and transaction.
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { OperatorContext } from '../../core/api/operator.ts';
import type { TwoPhaseCommitSink } from '../../core/api/sink.ts';
import { fsyncPath } from '../../core/durable.ts';
import { isStrayPart, MANIFEST, partFileName } from '../../core/sinks/part-files.ts';

const FLUSH_BYTES = 64 * 1024;


/** A prepared part file: where it is written, and the name it gets when committed. */
export interface PartFile { readonly inprogress: string; readonly final: string }

/**
 * A transaction is one part file, `part-<uid>-<runId>-<subtask>-<attempt>-<seq>.jsonl`,
 * written as `<name>.inprogress`: no two runs or attempts collide. Preparing flushes and
 * fsyncs it; committing renames it to its final name and fsyncs the directory, so a
 * reader that skips `.inprogress` files sees committed output only, and committed files
 * are never touched again. Each commit appends a line to `_weir-manifest.jsonl`.
 */
export function fileSink(dir: string, ctx: OperatorContext): TwoPhaseCommitSink<unknown, PartFile> {
  let fd = -1;
  let buf = '';
  let seq = 0;
  let current: PartFile | null = null;
  const flush = () => { if (buf !== '') { writeSync(fd, buf); buf = ''; } };
  return {
    open() {
      mkdirSync(dir, { recursive: true });
    },
    write(v) {
      if (current === null) {
        const final = join(dir, partFileName(ctx.uid, ctx.runId, ctx.subtask, ctx.attempt, seq++));
        current = { inprogress: `${final}.inprogress`, final };
        fd = openSync(current.inprogress, 'w');
      }
      buf += `${JSON.stringify(v)}\n`;
      if (buf.length > FLUSH_BYTES) flush();
    },
    prepareCommit() {
      if (current === null) return null;
      flush();
      fsyncSync(fd);
      closeSync(fd);
      fd = -1;
      const prepared = current;
      current = null;
      return prepared;
    },
    commit(parts) {
      const committed: string[] = [];
      for (const p of parts) {
        // Idempotent: a part committed before a failure is already in place (and in the manifest).
        if (existsSync(p.inprogress)) { renameSync(p.inprogress, p.final); committed.push(basename(p.final)); }
      }
      if (committed.length === 0) return;
      fsyncPath(dir);
      // One line per commit, appended whole (O_APPEND): every subtask of the sink writes here.
      appendFileSync(join(dir, MANIFEST), `${JSON.stringify({ uid: ctx.uid, subtask: ctx.subtask, attempt: ctx.attempt, runId: ctx.runId, files: committed })}\n`);
    },
    recover(held, adopted = []) {
      const keep = new Set(held.map((p) => p.inprogress));
      // Its own index's leftovers, and on a scale-down those of the old subtasks it took over.
      const subtasks = [ctx.subtask, ...adopted];
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (!keep.has(path) && subtasks.some((s) => isStrayPart(name, ctx.uid, s))) rmSync(path, { force: true });
      }
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}
