// Sinks: print, discard, collect (back to the submitting thread) and part files of JSON lines.
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { OperatorContext, StreamOperator } from '../../core/api/operator.ts';
import { partFileName } from '../../core/sinks/part-files.ts';
import type { RecordWriter } from '../runtime/record-writer.ts';

const FLUSH_BYTES = 64 * 1024;

export function printSink(prefix: string | undefined, ctx: OperatorContext): StreamOperator<unknown, never> {
  const head = [prefix, ctx.parallelism > 1 ? `${ctx.subtask + 1}` : undefined].filter(Boolean).join(':');
  let buf = '';
  const flush = () => { if (buf !== '') { process.stdout.write(buf); buf = ''; } };
  return {
    processElement(v) {
      buf += `${head ? `${head}> ` : ''}${typeof v === 'string' ? v : inspect(v, { depth: 6, breakLength: Infinity })}\n`;
      if (buf.length > FLUSH_BYTES) flush();
    },
    finish: flush,
    close: flush,
  };
}

export function discardSink(): StreamOperator<unknown, never> {
  return { processElement() {} };
}

export function collectSink(writer: RecordWriter): StreamOperator<unknown, never> {
  return {
    processElement: (v) => writer.add(v),
    finish: () => writer.flush(),
  };
}

/**
 * One part file per subtask and run (the coordinator cleared the directory of what earlier
 * runs left, see core/sinks/part-files.ts). It is written as `<name>.inprogress` and renamed
 * when the subtask finishes, so a reader can tell finished files from files being written.
 */
export function fileSinkOperator(dir: string, ctx: OperatorContext): StreamOperator<unknown, never> {
  const final = join(dir, partFileName(ctx.uid, ctx.runId, ctx.subtask));
  const inprogress = `${final}.inprogress`;
  let fd = -1;
  let buf = '';
  const flush = () => { if (buf !== '') { writeSync(fd, buf); buf = ''; } };
  return {
    open() {
      mkdirSync(dir, { recursive: true });
      fd = openSync(inprogress, 'w');
    },
    processElement(v) {
      buf += `${JSON.stringify(v)}\n`;
      if (buf.length > FLUSH_BYTES) flush();
    },
    finish() {
      flush();
      closeSync(fd);
      fd = -1;
      renameSync(inprogress, final);
    },
    close() {
      if (fd >= 0) closeSync(fd);
    },
  };
}
