// fast-check generators for keys, biased towards the values where encodings are easy to get wrong.

import fc from 'fast-check';
import type { Key } from '../../core/keys/encoding.ts';

// UTF-8 length boundaries, NUL (escaped), U+FEFF (a BOM to a careless decoder), and the
// BMP-after-surrogates range where UTF-16 and code point order disagree.
const edgeChars = fc.constantFrom(
  '\u0000', '\u0001', '\u007f', '\u0080', '\u00ff', '\u07ff', '\u0800', '\ud7ff',
  '\ue000', '\ufeff', '\uffff', '\u{10000}', '\u{1f600}', '\u{10ffff}', 'a', 'b',
);
export const stringKey = fc.string({ unit: fc.oneof(edgeChars, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 12 });

export const numberKey = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.constantFrom(0, -0, 1, -1, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, Infinity, -Infinity, 2 ** 53, -(2 ** 53)),
);

export const bigintKey = fc.oneof(
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 1015n), max: 2n ** 1015n }),
  fc.constantFrom(0n, 1n, -1n, 255n, 256n, -255n, -256n, 2n ** 1016n - 1n, -(2n ** 1016n - 1n)),
);

export const scalarKey: fc.Arbitrary<Key> = fc.oneof(numberKey, stringKey, bigintKey, fc.boolean());

export const key: fc.Arbitrary<Key> = fc.letrec<{ key: Key; array: Key[] }>((tie) => ({
  key: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarKey, tie('array')),
  array: fc.array(tie('key'), { maxLength: 4 }),
})).key;

/** Two keys that are often related (equal, one a prefix of the other), so comparisons hit the interesting cases. */
export const keyPair: fc.Arbitrary<[Key, Key]> = fc.oneof(
  fc.tuple(key, key),
  key.map((k): [Key, Key] => [k, structuredClone(k)]),
  fc.tuple(fc.array(key, { maxLength: 3 }), fc.array(key, { maxLength: 2 })).map(([a, b]): [Key, Key] => [a, [...a, ...b]]),
  fc.tuple(stringKey, stringKey).map(([a, b]): [Key, Key] => [a, a + b]),
);
