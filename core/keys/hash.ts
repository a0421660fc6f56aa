// The stable key hash: murmur3_x86_32, seed 0, over the canonical encoding; without allocating for numbers and strings.
//
// keyHash runs once per record on every keyBy edge, so number and string keys never build their
// encoding: their bytes are computed on the fly and fed to the murmur state. The property test
// in test/keys/hash.test.ts holds these fast paths equal to murmur3(encodeKey(key)).

import { encodeKeyTransient, loneSurrogate, numberWords, TAG_FALSE, TAG_NUMBER, TAG_STRING, TAG_TRUE } from './encoding.ts';
import type { Key } from './encoding.ts';
import { KeyError } from './errors.ts';
import { finish, mixBlock, mixTail, murmur3 } from './murmur3.ts';

const FALSE_HASH = murmur3(Uint8Array.of(TAG_FALSE));
const TRUE_HASH = murmur3(Uint8Array.of(TAG_TRUE));
const NO_PATH: readonly number[] = [];

/** The key's hash as an int32: stable across threads, runs, machines and Node versions. */
export function keyHash(key: Key): number {
  if (typeof key === 'number') return numberKeyHash(key);
  if (typeof key === 'string') return stringKeyHash(key);
  if (typeof key === 'boolean') return key ? TRUE_HASH : FALSE_HASH;
  if (typeof key === 'bigint' || Array.isArray(key)) return murmur3(encodeKeyTransient(key));
  throw new KeyError(key, NO_PATH);
}

const words = new Uint32Array(2);

/** keyHash of a number key; monomorphic, for callers that know their key type. */
export function numberKeyHash(n: number): number {
  numberWords(n, words, NO_PATH);
  const hi = words[0]! | 0;
  const lo = words[1]! | 0;
  // The 9 bytes are TAG hi(BE) lo(BE); murmur reads them as little-endian blocks, hence the byte swaps.
  let h = mixBlock(0, TAG_NUMBER | (swapBytes(hi) << 8));
  h = mixBlock(h, (hi & 0xff) | (swapBytes(lo) << 8));
  h = mixTail(h, lo & 0xff);
  return finish(h, 9);
}

function swapBytes(x: number): number {
  return (x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24);
}

/** keyHash of a string key; monomorphic, for callers that know their key type. */
export function stringKeyHash(s: string): number {
  const end = s.length;
  let h = 0;
  let i = 0;
  // The ASCII prefix (no NUL), four characters per block: after the tag byte every block is
  // the last character of the previous four and the first three of the next.
  let pending = TAG_STRING;
  for (; i + 4 <= end; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80 || c0 === 0 || c1 === 0 || c2 === 0 || c3 === 0) break;
    h = mixBlock(h, pending | (c0 << 8) | (c1 << 16) | (c2 << 24));
    pending = c3;
  }
  // The rest, one code point at a time. Bytes not yet mixed are little-endian in `pending`,
  // `filled` of them (0..3).
  let filled = 1;
  let length = 1 + i;
  for (; i < end; i++) {
    let c = s.charCodeAt(i);
    // `bytes`: the UTF-8 (or escaped NUL) of this code point, little-endian; `count` of them.
    let bytes: number;
    let count: number;
    if (c < 0x80) {
      if (c === 0) {
        bytes = 0xff00;
        count = 2;
      } else {
        bytes = c;
        count = 1;
      }
    } else if (c < 0x800) {
      bytes = (0xc0 | (c >>> 6)) | ((0x80 | (c & 0x3f)) << 8);
      count = 2;
    } else if (c < 0xd800 || c >= 0xe000) {
      bytes = (0xe0 | (c >>> 12)) | ((0x80 | ((c >>> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
      count = 3;
    } else {
      const low = s.charCodeAt(i + 1);
      if (c >= 0xdc00 || !(low >= 0xdc00 && low < 0xe000)) throw loneSurrogate(s, i, NO_PATH);
      c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      i++;
      bytes =
        (0xf0 | (c >>> 18)) |
        ((0x80 | ((c >>> 12) & 0x3f)) << 8) |
        ((0x80 | ((c >>> 6) & 0x3f)) << 16) |
        ((0x80 | (c & 0x3f)) << 24);
      count = 4;
    }
    length += count;
    if (filled + count < 4) {
      pending |= bytes << (filled << 3);
      filled += count;
    } else {
      h = mixBlock(h, pending | (bytes << (filled << 3)));
      // A shift by 32 is a shift by 0 in JS, so the all-consumed case is spelled out.
      pending = filled === 0 ? 0 : bytes >>> ((4 - filled) << 3);
      filled += count - 4;
    }
  }
  // The 0x00 0x00 terminator adds bytes without changing `pending`.
  length += 2;
  filled += 2;
  if (filled >= 4) {
    h = mixBlock(h, pending);
    pending = 0;
    filled -= 4;
  }
  if (filled > 0) h = mixTail(h, pending);
  return finish(h, length);
}
