// MurmurHash3 x86_32 (Austin Appleby's reference), over bytes and as the step functions the key hash streams through.
//
// Every function works on int32 values and returns int32 (Java's int), the form Flink's
// key-group formulas take. Published vectors are usually unsigned: compare with `v | 0`.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Mixes one 4-byte little-endian block `k` into the running hash `h`. */
export function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Mixes the last 1-3 bytes, packed little-endian in `k`, into `h`. */
export function mixTail(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  return h ^ k;
}

/** The finalizer over `h` after `length` bytes: avalanches the last bits through the whole word. */
export function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** murmur3_x86_32 of `bytes` with `seed`, as an int32. */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  const blocksEnd = length & ~3;
  let h = seed | 0;
  for (let i = 0; i < blocksEnd; i += 4) {
    h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  switch (length & 3) {
    case 3:
      h = mixTail(h, bytes[blocksEnd]! | (bytes[blocksEnd + 1]! << 8) | (bytes[blocksEnd + 2]! << 16));
      break;
    case 2:
      h = mixTail(h, bytes[blocksEnd]! | (bytes[blocksEnd + 1]! << 8));
      break;
    case 1:
      h = mixTail(h, bytes[blocksEnd]!);
      break;
  }
  return finish(h, length);
}
