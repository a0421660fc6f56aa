// Durable writes on the file system: fsync of a file or directory, and a whole file written and fsynced; files' checksums.
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { fsPromises, zlib } from './lazy-builtins.ts';

/** fsyncs a file or a directory (a directory's fsync makes the names in it durable). */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` as the whole of `path` and fsyncs it before returning. */
export function writeFileDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Bytes read at a time for a file's checksum. A state file can be LMDB's whole environment (a
 * hundred MB and more): read whole, each checkpoint allocated it once more on the actor's thread.
 */
export const CHECKSUM_CHUNK = 1 << 20;

/** A file's size and crc32, read `chunk` bytes at a time; between reads the event loop runs (the actor's thread goes on). */
export async function fileChecksum(path: string, chunk = CHECKSUM_CHUNK): Promise<{ bytes: number; crc32: number }> {
  const fh = await fsPromises().open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunk);
    let bytes = 0;
    let crc32 = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunk, bytes);
      if (bytesRead === 0) return { bytes, crc32 };
      crc32 = zlib().crc32(buf.subarray(0, bytesRead), crc32);
      bytes += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** fileChecksum, synchronously (a restore verifying a checkpoint before it reads it). */
export function fileChecksumSync(path: string, chunk = CHECKSUM_CHUNK): { bytes: number; crc32: number } {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunk);
    let bytes = 0;
    let crc32 = 0;
    for (;;) {
      const bytesRead = readSync(fd, buf, 0, chunk, bytes);
      if (bytesRead === 0) return { bytes, crc32 };
      crc32 = zlib().crc32(buf.subarray(0, bytesRead), crc32);
      bytes += bytesRead;
    }
  } finally {
    closeSync(fd);
  }
}
