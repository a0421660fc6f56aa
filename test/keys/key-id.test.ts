// keyId: Map keys whose equality is exactly the canonical encoding's.

import test from 'ava';
import fc from 'fast-check';
import { encodeKey } from '../../core/keys/encoding.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { keyId, stringKeyId } from '../../core/keys/key-id.ts';
import { key, keyPair, stringKey } from './arbitraries.ts';

const sameMapKey = (a: unknown, b: unknown) => new Map([[a, 1]]).has(b);

test('two ids are one Map key exactly when the encodings are equal', (t) => {
  fc.assert(fc.property(keyPair, ([a, b]) => {
    t.is(sameMapKey(keyId(a), keyId(b)), Buffer.from(encodeKey(a)).equals(encodeKey(b)));
  }), { numRuns: 2000 });
});

test('keys that JS or a careless id would confuse stay apart', (t) => {
  const keys: Key[] = [
    1, '1', 1n, true, 'true', 0, '0', 0n, false, '', '\u0000', '\u0000\u0000', [], [1], ['1'], [1n], [[1]], [''], ['', ''], [[]],
  ];
  // A string key spelled like an array's id must not take that id.
  for (const k of keys.filter(Array.isArray)) {
    const id = keyId(k) as string;
    keys.push(id, `\u0000${id}`);
  }
  t.is(new Set(keys.map((k) => Buffer.from(encodeKey(k)).toString('hex'))).size, keys.length, 'all distinct keys');
  t.is(new Set(keys.map(keyId)).size, keys.length);
});

test('a string that looks like an array id is not that array', (t) => {
  fc.assert(fc.property(fc.array(key, { maxLength: 3 }), (array) => {
    const id = keyId(array) as string;
    t.false(sameMapKey(keyId(id), id));
    t.false(sameMapKey(keyId(`\u0000${id}`), id));
  }));
});

test('-0 and 0 are one key, and the id is +0', (t) => {
  t.true(Object.is(keyId(-0), 0));
  t.true(sameMapKey(keyId([-0]), keyId([0])));
});

test('primitives are their own ids where that is correct', (t) => {
  t.is(keyId('user-1'), 'user-1');
  t.is(keyId(42.5), 42.5);
  t.is(keyId(7n), 7n);
  t.is(keyId(false), false);
  fc.assert(fc.property(stringKey.filter((s) => !s.startsWith('\u0000')), (s) => t.is(stringKeyId(s), s)));
});

test('equal arrays built separately find the same Map entry', (t) => {
  const state = new Map<unknown, number>();
  state.set(keyId(['user', 42, [true]]), 1);
  t.is(state.get(keyId(['user', 42, [true]])), 1);
  t.is(state.get(keyId(['user', '42', [true]])), undefined);
});
