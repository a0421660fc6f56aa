// Decodes canonical key bytes (format in encoding.ts), accepting only what encodeKey can produce.

import {
  MAX_BIGINT_BYTES,
  MAX_KEY_DEPTH,
  TAG_ARRAY,
  TAG_BIGINT,
  TAG_END,
  TAG_FALSE,
  TAG_NUMBER,
  TAG_STRING,
  TAG_TRUE,
} from './encoding.ts';
import type { Key } from './encoding.ts';
import { KeyDecodeError } from './errors.ts';

// fatal: reject invalid UTF-8 (overlongs, encoded surrogates) instead of inventing U+FFFD;
// ignoreBOM: a leading U+FEFF is part of the key, not a byte order mark.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const float = new Float64Array(1);
const view = new DataView(float.buffer);

/** The key whose canonical encoding is exactly `bytes`. Throws KeyDecodeError otherwise. */
export function decodeKey(bytes: Uint8Array): Key {
  const { key, end } = decodeKeyAt(bytes, 0);
  if (end !== bytes.length) throw new KeyDecodeError(`${bytes.length - end} bytes after the key`, end);
  return key;
}

/**
 * Decodes the key that starts at `offset` and returns it with the offset just past it, for
 * composite layouts where more follows the key (key group | key | namespace | user key).
 */
export function decodeKeyAt(bytes: Uint8Array, offset: number): { key: Key; end: number } {
  return read(bytes, offset, 0);
}

function read(bytes: Uint8Array, at: number, depth: number): { key: Key; end: number } {
  if (at >= bytes.length) throw new KeyDecodeError('the bytes end where a key should start', at);
  switch (bytes[at]) {
    case TAG_FALSE:
      return { key: false, end: at + 1 };
    case TAG_TRUE:
      return { key: true, end: at + 1 };
    case TAG_NUMBER:
      return readNumber(bytes, at + 1);
    case TAG_BIGINT:
      return readBigint(bytes, at + 1);
    case TAG_STRING:
      return readString(bytes, at + 1);
    case TAG_ARRAY:
      return readArray(bytes, at + 1, depth);
    default:
      throw new KeyDecodeError(`unknown tag 0x${bytes[at]!.toString(16).padStart(2, '0')}`, at);
  }
}

function need(bytes: Uint8Array, at: number, n: number, what: string): void {
  if (at + n > bytes.length) throw new KeyDecodeError(`the bytes end inside ${what}`, at);
}

function readNumber(bytes: Uint8Array, at: number): { key: number; end: number } {
  need(bytes, at, 8, 'a number');
  const flipped = bytes[at]! < 0x80; // negative numbers were written with all bits inverted
  for (let i = 0; i < 8; i++) view.setUint8(i, flipped ? ~bytes[at + i]! : bytes[at + i]! ^ (i === 0 ? 0x80 : 0));
  const n = view.getFloat64(0);
  if (n !== n) throw new KeyDecodeError('a NaN number, which no key encodes to', at);
  if (n === 0 && flipped) throw new KeyDecodeError('-0, which keys write as 0', at);
  return { key: n, end: at + 8 };
}

function readBigint(bytes: Uint8Array, at: number): { key: bigint; end: number } {
  need(bytes, at, 1, 'a bigint');
  const h = bytes[at]!;
  const negative = h < 0x80;
  const length = negative ? 0x80 - h : h - 0x80;
  if (length > MAX_BIGINT_BYTES) throw new KeyDecodeError(`a bigint header 0x${h.toString(16)} out of range`, at);
  need(bytes, at + 1, length, 'a bigint');
  const flip = negative ? 0xff : 0;
  if (length > 0 && (bytes[at + 1]! ^ flip) === 0) {
    throw new KeyDecodeError('a bigint with a leading zero byte, which keys never write', at + 1);
  }
  let hex = '';
  for (let i = 1; i <= length; i++) hex += ((bytes[at + i]! ^ flip) + 0x100).toString(16).slice(1);
  const magnitude = length === 0 ? 0n : BigInt(`0x${hex}`);
  return { key: negative ? -magnitude : magnitude, end: at + 1 + length };
}

function readString(bytes: Uint8Array, at: number): { key: string; end: number } {
  let escaped = false;
  let i = at;
  for (;;) {
    i = bytes.indexOf(TAG_END, i);
    if (i < 0 || i + 1 >= bytes.length) throw new KeyDecodeError('the bytes end inside a string', at);
    const next = bytes[i + 1];
    if (next === TAG_END) break;
    if (next !== 0xff) throw new KeyDecodeError(`0x00 followed by 0x${next!.toString(16)} in a string`, i);
    escaped = true;
    i += 2;
  }
  let utf = bytes.subarray(at, i);
  if (escaped) utf = unescapeNul(utf);
  try {
    return { key: utf8.decode(utf), end: i + 2 };
  } catch {
    throw new KeyDecodeError('a string that is not valid UTF-8', at);
  }
}

function unescapeNul(escaped: Uint8Array): Uint8Array {
  const out = new Uint8Array(escaped.length);
  let n = 0;
  for (let i = 0; i < escaped.length; i++) {
    out[n++] = escaped[i]!;
    if (escaped[i] === 0) i++; // skip the 0xFF that follows every NUL
  }
  return out.subarray(0, n);
}

function readArray(bytes: Uint8Array, at: number, depth: number): { key: Key[]; end: number } {
  if (depth >= MAX_KEY_DEPTH) throw new KeyDecodeError(`arrays nested deeper than ${MAX_KEY_DEPTH}`, at - 1);
  const elements: Key[] = [];
  for (;;) {
    need(bytes, at, 1, 'an array');
    if (bytes[at] === TAG_END) return { key: elements, end: at + 1 };
    const { key, end } = read(bytes, at, depth + 1);
    elements.push(key);
    at = end;
  }
}
