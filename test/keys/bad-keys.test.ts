// Values that are not keys: every entry point rejects them with a KeyError that says what and where.

import test from 'ava';
import { encodeKey, MAX_BIGINT_BYTES } from '../../core/keys/encoding.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { KeyError } from '../../core/keys/errors.ts';
import { keyHash, numberKeyHash, stringKeyHash } from '../../core/keys/hash.ts';
import { keyId, stringKeyId } from '../../core/keys/key-id.ts';

class Order {
  id = 1;
}
const cyclic: unknown[] = [];
cyclic.push(cyclic);

// [value, path, words the message must contain]
const BAD: Array<[value: unknown, path: string, words: string[]]> = [
  [undefined, 'key', ['got undefined', 'type undefined']],
  [null, 'key', ['got null', 'type null']],
  [function lookup() {}, 'key', ['function lookup', 'type function']],
  [Symbol('tag'), 'key', ['Symbol(tag)', 'type symbol']],
  [{ user: 1, region: 'eu' }, 'key', ['{user, region}', 'object (plain object)']],
  [Object.create(null), 'key', ['object (plain object)']],
  [Number.NaN, 'key', ['got NaN', 'type number', 'NaN is not equal to itself']],
  [new Order(), 'key', ['object (Order)']],
  [new Date(Date.UTC(2024, 0, 2)), 'key', ['Date 2024-01-02T00:00:00.000Z', 'object (Date)']],
  [new Uint8Array(2), 'key', ['object (Uint8Array)']],
  [new String('boxed'), 'key', ['object (String)']],
  ['ab\ud800', 'key', ['"ab\\ud800"', 'type string', 'lone surrogate at index 2']],
  ['\udc00x', 'key', ['lone surrogate at index 0']],
  [2n ** BigInt(8 * MAX_BIGINT_BYTES), 'key', ['type bigint', 'below 2^1016']],
  [[1, 'a', [undefined]], 'key[2][0]', ['got undefined', 'type undefined']],
  [['ok', [1, 2, 3, Number.NaN]], 'key[1][3]', ['got NaN']],
  [[0, { a: 1 }], 'key[1]', ['{a}']],
  // eslint-disable-next-line no-sparse-arrays
  [[1, , 3], 'key[1]', ['got undefined']],
  [[['x\udfff']], 'key[0][0]', ['lone surrogate at index 1']],
  [cyclic, `key${'[0]'.repeat(32)}`, ['arrays nest at most 32 deep', 'cyclic']],
];

const entryPoints: Array<[name: string, call: (k: unknown) => unknown]> = [
  ['encodeKey', (k) => encodeKey(k as Key)],
  ['keyHash', (k) => keyHash(k as Key)],
  ['keyId', (k) => keyId(k as Key)],
];

for (const [name, call] of entryPoints) {
  test(`${name} rejects non-keys with a KeyError naming the value, its type and its place`, (t) => {
    for (const [value, path, words] of BAD) {
      const error = t.throws(() => call(value), { instanceOf: KeyError }, path + words[0]);
      if (error === undefined) continue;
      t.is(error.name, 'KeyError');
      t.is(error.path, path);
      t.true(error.message.startsWith(`Invalid key at ${path}: `), error.message);
      for (const word of words) t.true(error.message.includes(word), `${JSON.stringify(word)} in: ${error.message}`);
    }
  });
}

test('the path is there as indexes too, for callers that add their own context', (t) => {
  const error = t.throws(() => encodeKey([1, 'a', [true, [null]]] as unknown as Key), { instanceOf: KeyError });
  t.deepEqual(error?.indexes, [2, 1, 0]);
  t.is(error?.path, 'key[2][1][0]');
  t.is(error?.valueType, 'null');
});

test('a KeyError from one key does not leak its path into the next', (t) => {
  t.throws(() => encodeKey([[null]] as unknown as Key));
  const error = t.throws(() => encodeKey(null as unknown as Key), { instanceOf: KeyError });
  t.is(error?.path, 'key');
});

test('typed fast paths reject what their type can still hold', (t) => {
  t.throws(() => numberKeyHash(Number.NaN), { instanceOf: KeyError, message: /NaN/ });
  t.throws(() => stringKeyHash('\ud83d'), { instanceOf: KeyError, message: /lone surrogate at index 0/ });
  t.throws(() => stringKeyId('a\ud83d'), { instanceOf: KeyError, message: /lone surrogate at index 1/ });
});

test('long values are shortened in the message', (t) => {
  const error = t.throws(() => encodeKey(`${'x'.repeat(500)}\ud800`), { instanceOf: KeyError });
  t.true(error!.message.length < 200, error!.message);
  t.true(error!.message.includes('...'));
});

test('the largest accepted bigint is just below the limit', (t) => {
  t.notThrows(() => encodeKey(2n ** BigInt(8 * MAX_BIGINT_BYTES) - 1n));
  t.notThrows(() => encodeKey(-(2n ** BigInt(8 * MAX_BIGINT_BYTES) - 1n)));
  t.throws(() => encodeKey(-(2n ** BigInt(8 * MAX_BIGINT_BYTES))), { instanceOf: KeyError });
});
