// keyHash: frozen by golden vectors; the allocation-free fast paths agree with hashing the encoding.

import test from 'ava';
import fc from 'fast-check';
import { encodeKey } from '../../core/keys/encoding.ts';
import { keyHash, numberKeyHash, stringKeyHash } from '../../core/keys/hash.ts';
import { murmur3 } from '../../core/keys/murmur3.ts';
import { key, numberKey, stringKey } from './arbitraries.ts';
import { GOLDEN_KEYS } from './golden.ts';

test('golden key hashes (never change: they place every key in its key group)', (t) => {
  for (const [k, hash] of GOLDEN_KEYS) t.is(keyHash(k), hash, `key ${String(k)}`);
});

test('the number fast path equals murmur3 over the encoding', (t) => {
  fc.assert(fc.property(numberKey, (n) => {
    t.is(numberKeyHash(n), murmur3(encodeKey(n)));
  }), { numRuns: 2000 });
});

test('the string fast path equals murmur3 over the encoding, at every block alignment', (t) => {
  fc.assert(fc.property(stringKey, (s) => {
    t.is(stringKeyHash(s), murmur3(encodeKey(s)));
  }), { numRuns: 3000 });
  // Each multi-byte sequence (and the escaped NUL) starting at each of the four block offsets.
  for (const c of ['\u0000', 'é', '\u0800', '\uffff', '\u{1f600}']) {
    for (let prefix = 0; prefix < 8; prefix++) {
      const s = 'a'.repeat(prefix) + c + c + 'z';
      t.is(stringKeyHash(s), murmur3(encodeKey(s)), JSON.stringify(s));
    }
  }
});

test('keyHash equals murmur3 over the encoding for any key, as an int32', (t) => {
  fc.assert(fc.property(key, (k) => {
    const hash = keyHash(k);
    t.is(hash, murmur3(encodeKey(k)));
    t.is(hash, hash | 0);
  }), { numRuns: 2000 });
});

test('-0 hashes as 0', (t) => {
  t.is(keyHash(-0), keyHash(0));
  t.is(keyHash([-0, 'x']), keyHash([0, 'x']));
});
