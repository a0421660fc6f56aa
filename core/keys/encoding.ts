// The canonical key encoding: one byte string per key, ordered like the keys, hashed by keyHash and laid out in LMDB.
//
// FORMAT (frozen: keyHash is murmur3 over these bytes, so changing anything here moves every key
// to another key group and invalidates every checkpoint and savepoint).
//
//   key     := false | true | number | bigint | string | array
//   false   := 0x20
//   true    := 0x21
//   number  := 0x30 b[8]      IEEE-754 binary64 bits, big-endian, order-flipped: if the sign bit is
//                             set all 64 bits are inverted, else only the sign bit is set. -0 is
//                             written as 0; NaN is rejected. Infinities are allowed.
//   bigint  := 0x40 h m[n]    m = |value| big-endian, minimal (no leading 0x00), n = 0..127 bytes.
//                             h = 0x80 + n for value >= 0 (0n is 0x80 with no m),
//                             h = 0x80 - n for value < 0, and then every byte of m is inverted.
//                             |value| must be < 2^1016.
//   string  := 0x50 u 0x00 0x00
//                             u = the UTF-8 bytes of the string, each 0x00 written as 0x00 0xFF.
//                             Strings with a lone surrogate are rejected (UTF-8 cannot hold them).
//   array   := 0x60 key* 0x00 elements in order, nested arrays allowed, at most MAX_KEY_DEPTH deep.
//
// ORDER. Every encoding is self-delimiting (no key's bytes are a proper prefix of another's), so
// comparing encodings byte-wise (memcmp, as LMDB does) orders keys as follows:
//   - across types: false < true < numbers < bigints < strings < arrays. A number and a bigint of
//     the same value are two different keys; every number sorts before every bigint.
//   - numbers: numeric order, -Infinity first, +Infinity last.
//   - bigints: numeric order.
//   - strings: by Unicode code point sequence (UTF-8 byte order), a prefix before its extensions.
//     This differs from JS `<`, which compares UTF-16 code units: '\u{10000}' > '\uffff' here.
//   - arrays: element by element with the rules above; a prefix sorts before its extensions
//     (the 0x00 end byte is below every tag).
// Equal keys (including two distinct arrays with equal elements) have equal bytes and vice versa.
// Tags are spaced so that a later type can be placed anywhere in the cross-type order.

import { KeyError } from './errors.ts';

export type Key = string | number | bigint | boolean | readonly Key[];

export const TAG_END = 0x00;
export const TAG_FALSE = 0x20;
export const TAG_TRUE = 0x21;
export const TAG_NUMBER = 0x30;
export const TAG_BIGINT = 0x40;
export const TAG_STRING = 0x50;
export const TAG_ARRAY = 0x60;

/** Deepest array nesting accepted; also what stops a cyclic array from recursing forever. */
export const MAX_KEY_DEPTH = 32;
/** Largest bigint magnitude in bytes (h must stay within 0x01..0xff). */
export const MAX_BIGINT_BYTES = 127;

const float = new Float64Array(1);
const words = new Uint32Array(float.buffer);
// Typed arrays use the platform's byte order; find which word holds the sign and exponent.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/**
 * The order-flipped high and low words of a number's encoding, written to `out[0]` and `out[1]`
 * as uint32. Shared with the hash so that both agree on -0 and NaN.
 */
export function numberWords(n: number, out: Uint32Array, indexes: readonly number[]): void {
  if (n !== n) throw new KeyError(n, indexes, 'NaN is not equal to itself, so it cannot identify a key');
  float[0] = n + 0; // -0 + 0 is +0
  const hi = words[HI]!;
  const lo = words[LO]!;
  if (hi >= 0x80000000) {
    out[0] = ~hi;
    out[1] = ~lo;
  } else {
    out[0] = hi | 0x80000000;
    out[1] = lo;
  }
}

// Scratch for encoding; one huge key must not pin a huge buffer, so past this size it is dropped.
const SCRATCH_BYTES = 256;
const SCRATCH_RETAINED_BYTES = 64 * 1024;
let buf = new Uint8Array(SCRATCH_BYTES);
let pos = 0;
const numberOut = new Uint32Array(2);

/** The canonical bytes of `key` (a fresh array the caller owns). Throws KeyError for a value that is not a key. */
export function encodeKey(key: Key): Uint8Array {
  return encodeKeyTransient(key).slice();
}

/**
 * The canonical bytes of `key` as a view of a shared scratch buffer, valid only until the next
 * encode: for callers that hash the bytes or copy them into a larger key at once.
 */
export function encodeKeyTransient(key: Key): Uint8Array {
  if (buf.length > SCRATCH_RETAINED_BYTES) buf = new Uint8Array(SCRATCH_BYTES); // the last view is dead by now
  pos = 0;
  path.length = 0; // a KeyError thrown last time may have left entries
  write(key, 0);
  return buf.subarray(0, pos);
}

function reserve(n: number): void {
  if (pos + n <= buf.length) return;
  const bigger = new Uint8Array(Math.max(buf.length * 2, pos + n));
  bigger.set(buf.subarray(0, pos));
  buf = bigger;
}

// The array indexes leading to the value being written; KeyError copies it when it needs it.
const path: number[] = [];

function write(key: unknown, depth: number): void {
  switch (typeof key) {
    case 'number':
      numberWords(key, numberOut, path);
      reserve(9);
      buf[pos] = TAG_NUMBER;
      writeU32(numberOut[0]!, pos + 1);
      writeU32(numberOut[1]!, pos + 5);
      pos += 9;
      return;
    case 'string':
      writeString(key);
      return;
    case 'boolean':
      reserve(1);
      buf[pos++] = key ? TAG_TRUE : TAG_FALSE;
      return;
    case 'bigint':
      writeBigint(key);
      return;
  }
  if (!Array.isArray(key)) throw new KeyError(key, path);
  if (depth >= MAX_KEY_DEPTH) {
    throw new KeyError(key, path, `arrays nest at most ${MAX_KEY_DEPTH} deep in a key (is the array cyclic?)`);
  }
  reserve(1);
  buf[pos++] = TAG_ARRAY;
  for (let i = 0; i < key.length; i++) {
    path.push(i);
    write(key[i], depth + 1);
    path.pop();
  }
  reserve(1);
  buf[pos++] = TAG_END;
}

function writeU32(word: number, at: number): void {
  buf[at] = word >>> 24;
  buf[at + 1] = word >>> 16;
  buf[at + 2] = word >>> 8;
  buf[at + 3] = word;
}

function writeString(s: string): void {
  // 3 bytes per UTF-16 unit covers every case (a pair is 4 bytes for 2 units, NUL 2 bytes for 1).
  reserve(3 * s.length + 3);
  buf[pos++] = TAG_STRING;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
      if (c === 0) buf[pos++] = 0xff;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >>> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c >= 0xe000) {
      buf[pos++] = 0xe0 | (c >>> 12);
      buf[pos++] = 0x80 | ((c >>> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      const low = s.charCodeAt(i + 1); // NaN past the end
      if (c >= 0xdc00 || !(low >= 0xdc00 && low < 0xe000)) throw loneSurrogate(s, i, path);
      c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      i++;
      buf[pos++] = 0xf0 | (c >>> 18);
      buf[pos++] = 0x80 | ((c >>> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >>> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  buf[pos++] = TAG_END;
  buf[pos++] = TAG_END;
}

/** Bigint keys must be strictly between -BIGINT_LIMIT and BIGINT_LIMIT. */
export const BIGINT_LIMIT = 2n ** BigInt(8 * MAX_BIGINT_BYTES);

export function bigintTooLarge(n: bigint, indexes: readonly number[]): KeyError {
  return new KeyError(n, indexes, `a bigint key must be below 2^${8 * MAX_BIGINT_BYTES} in magnitude`);
}

export function loneSurrogate(s: string, at: number, indexes: readonly number[]): KeyError {
  return new KeyError(s, indexes, `it has a lone surrogate at index ${at}, which UTF-8 cannot encode`);
}

function writeBigint(n: bigint): void {
  const negative = n < 0n;
  let hex = (negative ? -n : n).toString(16);
  if (hex === '0') hex = '';
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const length = hex.length / 2;
  if (length > MAX_BIGINT_BYTES) throw bigintTooLarge(n, path);
  reserve(2 + length);
  buf[pos++] = TAG_BIGINT;
  buf[pos++] = negative ? 0x80 - length : 0x80 + length;
  const flip = negative ? 0xff : 0;
  for (let i = 0; i < length; i++) buf[pos++] = parseInt(hex.slice(2 * i, 2 * i + 2), 16) ^ flip;
}
