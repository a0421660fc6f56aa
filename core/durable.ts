// Durable writes on the file system: fsync of a file or directory, and a whole file written and fsynced.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

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
