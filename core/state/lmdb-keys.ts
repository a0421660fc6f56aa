// LMDB state key layout: key group (u16 BE) | key | namespace | user key, held as latin1 strings in the cache.
//
// Every part is a canonical, self-delimiting key encoding (core/keys/encoding.ts), so the key
// group is one contiguous range, and so are the MapState entries of a (key, namespace), in
// user-key byte order. In the write cache a key is a string with one char per byte, behind
// a one-char table tag: JS compares strings by UTF-16 code unit, which for chars below 0x100
// is byte order, so the cache sorts keys exactly as LMDB does without holding byte arrays.

import { decodeKeyAt } from '../keys/decoding.ts';
import { encodeKeyTransient, numberWords, TAG_NUMBER } from '../keys/encoding.ts';
import type { Key } from '../keys/encoding.ts';

/** lmdb-js's limit on key size (DEFAULT_MAX_KEY_SIZE in its open.js). */
export const MAX_LMDB_KEY_BYTES = 1978;

const latin1Slice = Buffer.prototype.latin1Slice;

/** One char per byte, as one flat string (cheaper to hash and compare than a concatenation). */
export function latin1(bytes: Uint8Array): string {
  return latin1Slice.call(bytes, 0, bytes.length);
}

/** The latin1 form of a key's canonical encoding. */
export function encodedKeyString(key: Key): string {
  return latin1(encodeKeyTransient(key));
}

/** The two chars of a key group, big-endian. */
export function keyGroupString(keyGroup: number): string {
  return String.fromCharCode(keyGroup >>> 8, keyGroup & 0xff);
}

/** The key group of a tagged cache key. */
export function keyGroupOfTagged(tagged: string): number {
  return (tagged.charCodeAt(1) << 8) | tagged.charCodeAt(2);
}

// Keys are at most MAX_LMDB_KEY_BYTES plus the tag char, so one scratch buffer serves them all,
// with a view per length made once: a put or get then allocates no Buffer for its key.
const scratch = Buffer.allocUnsafe(MAX_LMDB_KEY_BYTES + 1);
const views: Buffer[] = [];

/**
 * The LMDB key bytes of a tagged cache key (the tag dropped), as a view of a shared scratch
 * buffer valid until the next call: lmdb-js copies keys into its own buffer at once.
 */
export function lmdbKey(tagged: string): Buffer {
  const n = scratch.write(tagged, 0, 'latin1');
  return views[n] ??= scratch.subarray(1, n);
}

/** A fresh copy of the LMDB key bytes of a tagged cache key. */
export function lmdbKeyCopy(tagged: string): Buffer {
  return Buffer.from(lmdbKey(tagged));
}

/** The tagged cache key of LMDB key bytes. */
export function taggedKey(tag: string, bytes: Uint8Array): string {
  return tag + latin1(bytes);
}

/** The least string above every string that starts with `prefix` (the end of a prefix range); undefined if none. */
export function prefixEnd(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}

/** Says what an LMDB state key holds, for error messages; falls back to hex where the bytes do not decode. */
export function describeKey(bytes: Uint8Array): string {
  if (bytes.length < 2) return `malformed key 0x${Buffer.from(bytes).toString('hex')}`;
  const parts = [`key group ${(bytes[0]! << 8) | bytes[1]!}`];
  try {
    let at = 2;
    for (const name of ['key', 'namespace', 'map key']) {
      if (at >= bytes.length) break;
      const { key, end } = decodeKeyAt(bytes, at);
      parts.push(`${name} ${formatKey(key)}`);
      at = end;
    }
  } catch {
    parts.push(`undecodable bytes 0x${Buffer.from(bytes.subarray(2)).toString('hex')}`);
  }
  return parts.join(', ');
}

function formatKey(key: Key): string {
  switch (typeof key) {
    case 'string':
      return JSON.stringify(key);
    case 'bigint':
      return `${key}n`;
    case 'number':
    case 'boolean':
      return String(key);
    default:
      return `[${key.map(formatKey).join(', ')}]`;
  }
}

const NO_PATH: readonly number[] = [];
const words = new Uint32Array(2);
const DEFAULT_NAMESPACE_BYTES = encodeKeyTransient('').slice();
const numberKey = Buffer.alloc(2 + 9 + DEFAULT_NAMESPACE_BYTES.length);
numberKey.set(DEFAULT_NAMESPACE_BYTES, 11);

/**
 * The LMDB key of Value state in the default namespace under a number key (what a slab holds),
 * as a view of a shared buffer valid until the next call: key group, then the number's encoding,
 * then the empty namespace's.
 */
export function numberStateKey(keyGroup: number, key: number): Buffer {
  numberWords(key, words, NO_PATH);
  numberKey[0] = keyGroup >>> 8;
  numberKey[1] = keyGroup & 0xff;
  numberKey[2] = TAG_NUMBER;
  numberKey.writeUInt32BE(words[0]!, 3);
  numberKey.writeUInt32BE(words[1]!, 7);
  return numberKey;
}
