// Canonical key encoding: golden bytes, round trips, order preservation, canonical decoding.

import test from 'ava';
import fc from 'fast-check';
import { decodeKey, decodeKeyAt } from '../../core/keys/decoding.ts';
import { encodeKey } from '../../core/keys/encoding.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { KeyDecodeError } from '../../core/keys/errors.ts';
import { bigintKey, key, keyPair, numberKey, stringKey } from './arbitraries.ts';
import { GOLDEN_KEYS } from './golden.ts';
import { compareBytes, compareCodePoints, compareKeys, withoutNegativeZero } from './reference-order.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const unhex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));
const sign = (n: number) => Math.sign(n) + 0;

test('golden keys encode to the bytes of the independent encoder', (t) => {
  for (const [k, , bytes] of GOLDEN_KEYS) t.is(hex(encodeKey(k)), bytes, `key ${String(k)}`);
});

test('decoding an encoding gives the key back (-0 as 0)', (t) => {
  fc.assert(fc.property(key, (k) => {
    t.deepEqual(decodeKey(encodeKey(k)), withoutNegativeZero(k));
  }));
  t.true(Object.is(decodeKey(encodeKey(-0)), 0));
});

test('byte order is key order, for any two keys', (t) => {
  fc.assert(fc.property(keyPair, ([a, b]) => {
    t.is(sign(compareBytes(encodeKey(a), encodeKey(b))), sign(compareKeys(a, b)));
  }), { numRuns: 2000 });
});

test('byte order is numeric order for numbers and bigints, code point order for strings', (t) => {
  const byBytes = (a: Key, b: Key) => sign(compareBytes(encodeKey(a), encodeKey(b)));
  const natural = <T>(a: T, b: T) => (a < b ? -1 : a > b ? 1 : 0);
  fc.assert(fc.property(numberKey, numberKey, (a, b) => t.is(byBytes(a, b), natural(a, b))), { numRuns: 1000 });
  fc.assert(fc.property(bigintKey, bigintKey, (a, b) => t.is(byBytes(a, b), natural(a, b))), { numRuns: 1000 });
  fc.assert(fc.property(stringKey, stringKey, (a, b) => t.is(byBytes(a, b), sign(compareCodePoints(a, b)))), { numRuns: 1000 });
});

test('a sorted list of keys stays sorted by bytes', (t) => {
  const sorted: Key[] = [
    false, true, -Infinity, -1e300, -1, -Number.MIN_VALUE, 0, Number.MIN_VALUE, 1, 1.5, 2 ** 53, Infinity,
    -(2n ** 64n), -256n, -255n, -1n, 0n, 1n, 255n, 256n, 2n ** 64n,
    '', '\u0000', '\u0000\u0000', '\u0001', 'a', 'a\u0000', 'ab', 'b', '\u00e9', '\uffff', '\u{10000}', '\u{10ffff}',
    [], [false], [0], [0, 0], [0, 'a'], [1], ['a'], ['a', []], ['ab'], [[]], [[0]],
  ];
  const byBytes = [...sorted].sort((a, b) => compareBytes(encodeKey(a), encodeKey(b)));
  t.deepEqual(byBytes, sorted);
  t.true('\uffff' > '\u{10000}', 'JS < disagrees with code point order here, which is why the test lists both');
});

test('equal arrays are one key: same bytes from distinct array objects', (t) => {
  fc.assert(fc.property(key, (k) => {
    t.deepEqual(encodeKey(structuredClone(k)), encodeKey(k));
  }));
  const shared = ['x'];
  t.deepEqual(encodeKey([shared, shared]), encodeKey([['x'], ['x']]));
  t.deepEqual(encodeKey(Object.freeze([1, 2])), encodeKey([1, 2]));
});

test('decodeKeyAt reads one key and says where the next thing starts', (t) => {
  const first = encodeKey(['user', 42]);
  const second = encodeKey('namespace');
  const composite = new Uint8Array([0x00, 0x07, ...first, ...second]);
  const a = decodeKeyAt(composite, 2);
  t.deepEqual(a, { key: ['user', 42], end: 2 + first.length });
  t.deepEqual(decodeKeyAt(composite, a.end), { key: 'namespace', end: composite.length });
});

test('decodeKey accepts only canonical encodings', (t) => {
  const rejects: Array<[hex: string, offset: number, words: RegExp]> = [
    ['', 0, /end where a key should start/],
    ['ff', 0, /unknown tag 0xff/],
    ['2100', 1, /1 bytes after the key/],
    ['30800000', 1, /inside a number/],
    ['307fffffffffffffff', 1, /-0/], // -0, which encodeKey writes as 0
    ['30fff8000000000000', 1, /NaN/],
    ['40820001', 2, /leading zero/],
    ['407fff', 2, /leading zero/], // -0n as a negative with magnitude 0x00
    ['4000', 1, /out of range/],
    ['408301', 2, /inside a bigint/],
    ['506100', 1, /inside a string/],
    ['50610001', 2, /0x00 followed by 0x1/],
    ['50c0800000', 1, /not valid UTF-8/], // overlong NUL
    ['50eda0800000', 1, /not valid UTF-8/], // an encoded lone surrogate
    ['6021', 2, /inside an array/],
    [`${'60'.repeat(33)}${'00'.repeat(33)}`, 32, /nested deeper than 32/],
  ];
  for (const [bytes, offset, words] of rejects) {
    const error = t.throws(() => decodeKey(unhex(bytes)), { instanceOf: KeyDecodeError, message: words }, bytes);
    t.is(error?.offset, offset, bytes);
  }
});

test('a BOM at the start of a string is part of the key', (t) => {
  t.is(decodeKey(encodeKey('\ufeffx')), '\ufeffx');
});

test('arrays nest 32 deep', (t) => {
  let deep: Key = 1;
  for (let i = 0; i < 32; i++) deep = [deep];
  t.deepEqual(decodeKey(encodeKey(deep)), deep);
});

test('long keys grow the scratch buffer and do not share it', (t) => {
  const long = 'x'.repeat(100_000);
  const a = encodeKey(long);
  const b = encodeKey('y');
  t.is(a.length, 100_003);
  t.is(decodeKey(a), long);
  t.is(decodeKey(b), 'y');
});
