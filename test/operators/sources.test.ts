// Sources read by position: the position after the last record is the end of the input, whatever its last byte.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperatorContext } from '../../core/api/operator.ts';
import { systemClock } from '../../core/time/clock.ts';
import { fileSource } from '../../actors/operators/sources.ts';

const ctx: OperatorContext = {
  uid: 'src', name: 'File', subtask: 0, parallelism: 1, maxParallelism: 128, attempt: 0, runId: 'test', options: {}, clock: systemClock,
};

for (const [name, text] of [['ends with a newline', 'a\nbb\nccc\n'], ['ends without one', 'a\nbb\nccc'], ['CRLF lines', 'a\r\nbb\r\nccc']] as const) {
  test(`file source, ${name}: every line once, and the offset ends at the file's size`, (t) => {
    const path = join(mkdtempSync(join(tmpdir(), 'weir-src-')), 'in.txt');
    writeFileSync(path, text);
    const src = fileSource(path, 'lines', ctx);
    src.open!(ctx);
    const lines: unknown[] = [];
    while (src.emitBatch((l) => lines.push(l), 2));
    src.close!();
    t.deepEqual(lines, ['a', 'bb', 'ccc']);
    t.is(src.offset, Buffer.byteLength(text), 'a position taken now would not emit the last line again');
  });
}
