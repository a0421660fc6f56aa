// keyId: a JS Map key with the canonical encoding's equality, for the heap state backend.
//
// Map compares keys with SameValueZero, which already matches the encoding for primitives:
// 1 and '1' and 1n and true are four different Map keys, as they are four different encodings;
// 0 and -0 are one (the encoding writes -0 as 0); 1n and BigInt(1) are one. So primitives are
// their own ids. Arrays compare by identity in a Map, so an array's id is a string made from its
// encoding, and string keys that could collide with such ids are moved out of the way:
//   array key           -> ESCAPE + latin1(encodeKey(array))    second char is TAG_ARRAY ('`')
//   string starting ESC -> ESCAPE + string                      second char is ESCAPE
//   any other string    -> itself                               first char is not ESCAPE
// The three forms cannot meet, so equal ids mean equal keys and the other way round.

import { BIGINT_LIMIT, bigintTooLarge, encodeKeyTransient, loneSurrogate } from './encoding.ts';
import type { Key } from './encoding.ts';
import { KeyError } from './errors.ts';

export type KeyId = string | number | bigint | boolean;

const ESCAPE = '\u0000';
const ESCAPE_CODE = 0;
const NO_PATH: readonly number[] = [];

/** A Map key equal (SameValueZero) to another key's id exactly when the two keys' encodings are equal. */
export function keyId(key: Key): KeyId {
  switch (typeof key) {
    case 'string':
      return stringKeyId(key);
    case 'number':
      if (key !== key) throw new KeyError(key, NO_PATH, 'NaN is not equal to itself, so it cannot identify a key');
      return key + 0; // -0 + 0 is +0, so a key read back from the Map is never -0
    case 'boolean':
      return key;
    case 'bigint':
      if (key >= BIGINT_LIMIT || key <= -BIGINT_LIMIT) throw bigintTooLarge(key, NO_PATH);
      return key;
  }
  if (!Array.isArray(key)) throw new KeyError(key, NO_PATH);
  const bytes = encodeKeyTransient(key);
  // fromCharCode spreads its arguments on the stack, so long encodings go through Buffer instead.
  if (bytes.length <= 1024) return ESCAPE + String.fromCharCode.apply(null, bytes as unknown as number[]);
  return ESCAPE + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

/** keyId of a string key; monomorphic, for callers that know their key type. */
export function stringKeyId(s: string): string {
  if (!s.isWellFormed()) throw loneSurrogate(s, firstLoneSurrogate(s), NO_PATH);
  return s.charCodeAt(0) === ESCAPE_CODE ? ESCAPE + s : s;
}

function firstLoneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c >= 0xe000) continue;
    const low = s.charCodeAt(i + 1);
    if (c >= 0xdc00 || !(low >= 0xdc00 && low < 0xe000)) return i;
    i++;
  }
  return -1;
}
