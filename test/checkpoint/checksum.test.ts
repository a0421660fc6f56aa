// A state file's checksum is read a chunk at a time: the same size and crc32 as the whole file read at once, at
// every place a chunk boundary can fall, and a flipped byte anywhere changes it.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fileChecksum, fileChecksumSync } from '../../core/durable.ts';

const CHUNK = 64;

test('chunked checksums equal the whole file\'s, for sizes around chunk boundaries, sync and async', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-checksum-'));
  try {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5]) {
      const bytes = Buffer.from(Array.from({ length: size }, (_, i) => (i * 131 + 7) & 0xff));
      const file = join(dir, `f${size}`);
      writeFileSync(file, bytes);
      const whole = { bytes: size, crc32: crc32(bytes) };
      t.deepEqual(await fileChecksum(file, CHUNK), whole, `async, ${size} bytes`);
      t.deepEqual(fileChecksumSync(file, CHUNK), whole, `sync, ${size} bytes`);
      t.deepEqual(await fileChecksum(file), whole, `async, default chunk, ${size} bytes`);
    }
    const bytes = Buffer.alloc(3 * CHUNK + 5, 0x5a);
    const file = join(dir, 'flip');
    writeFileSync(file, bytes);
    const before = fileChecksumSync(file, CHUNK).crc32;
    for (const at of [0, CHUNK - 1, CHUNK, 2 * CHUNK + 1, bytes.length - 1]) {
      const flipped = Buffer.from(bytes);
      flipped[at]! ^= 1;
      writeFileSync(file, flipped);
      t.not(fileChecksumSync(file, CHUNK).crc32, before, `a flipped byte at ${at}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing file is an error naming it', async (t) => {
  await t.throwsAsync(fileChecksum('/nonexistent/weir-state-file'), { message: /weir-state-file/ });
  t.throws(() => fileChecksumSync('/nonexistent/weir-state-file'), { message: /weir-state-file/ });
});
