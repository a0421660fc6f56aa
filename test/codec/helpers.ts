// Test helpers for codecs: payloads placed in shared memory as a ring would hold them, and round trips.

import type { Codec } from '../../core/codec/codec.ts';

/** A copy of bytes inside a SharedArrayBuffer at `offset` (odd offsets exercise unaligned reads). */
export function inSharedMemory(bytes: Uint8Array, offset = 3): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(offset + bytes.length + 5), offset, bytes.length);
  view.set(bytes);
  return view;
}

export function decodeAll<T>(codec: Codec<T>, payload: Uint8Array, count: number): T[] {
  const out: T[] = [];
  codec.decode(payload, count, (record) => out.push(record));
  return out;
}

/** Encodes records[start..end), moves the payload into shared memory at an odd offset, and decodes it. */
export function roundTrip<T>(codec: Codec<T>, records: readonly T[], start = 0, end = records.length): T[] {
  return decodeAll(codec, inSharedMemory(codec.encode(records, start, end)), end - start);
}
