// Sinks: print, discard and collect (back to the submitting thread); the file sink is in file-sink.ts.
import { inspect } from 'node:util';
import type { OperatorContext, StreamOperator } from '../../core/api/operator.ts';
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
