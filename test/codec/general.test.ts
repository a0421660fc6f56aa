// Tests for the general codec: faithful round trips of JS values through shared memory, independence of records, and errors.

import { deepStrictEqual } from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { CodecError } from '../../core/codec/errors.ts';
import { generalCodec } from '../../core/codec/general.ts';
import { decodeAll, inSharedMemory, roundTrip } from './helpers.ts';

test('edge values survive: -0, NaN, infinities, bigints of any size, undefined inside objects and arrays', (t) => {
  const records = [
    -0, 0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31) - 1, 0.1,
    -(2n ** 63n), 2n ** 64n - 1n, 2n ** 100n, -(2n ** 90n), 5n,
    undefined, null, true, '', 'héllo 😀',
    { a: undefined, b: [1, undefined, -0, [[-0]]] },
    [[1, [2, [3, [4]]]]],
  ];
  const back = roundTrip(generalCodec(), records);
  deepStrictEqual(back, records);
  t.true(Object.is(back[0], -0) && Object.is((back[18] as { b: unknown[] }).b[2], -0));
  t.true('a' in (back[18] as object));
});

test('Dates, Maps, Sets, typed arrays and Errors keep their classes; a Buffer comes back a Uint8Array', (t) => {
  const records = [
    new Date(1_700_000_000_123), new Date(-1),
    new Map<unknown, unknown>([[1, 'one'], ['k', { x: [1] }], [2n, null]]),
    new Set([1, 'a', -0.5]),
    new Uint8Array([1, 2, 3]), new Float64Array([-0, NaN, 1.5]), new Int32Array([-1, 2 ** 31 - 1]),
  ];
  deepStrictEqual(roundTrip(generalCodec(), records), records);
  const [error, buffer] = roundTrip(generalCodec(), [new RangeError('boom'), Buffer.from('buf')]);
  deepStrictEqual(buffer, new Uint8Array([98, 117, 102]));
  t.true(error instanceof RangeError);
  t.is((error as Error).message, 'boom');
});

test('objects of many shapes in one frame, and the same shapes across frames', (t) => {
  const codec = generalCodec();
  const records = Array.from({ length: 300 }, (_, i) => ({ [`k${i % 70}`]: i, shared: i % 3 === 0 ? 'x' : [i] }));
  t.deepEqual(roundTrip(codec, records), records);
  t.deepEqual(roundTrip(codec, records.slice(0, 50)), records.slice(0, 50));
});

test('what msgpackr does not keep, as documented in general.ts', (t) => {
  class Point { x = 1; y = 2; }
  const [point, sparse, nullProto, poisoned, surrogate] = roundTrip(generalCodec(), [
    new Point(), [, 1], Object.assign(Object.create(null) as object, { n: 1 }), JSON.parse('{"__proto__": {"x": 1}}'), 'a\ud800',
  ]);
  t.deepEqual(point, { x: 1, y: 2 });
  t.is(Object.getPrototypeOf(point), Object.prototype);
  t.deepEqual(sparse, [undefined, 1]);
  t.is(Object.getPrototypeOf(nullProto), Object.prototype);
  t.deepEqual(Object.keys(poisoned as object), ['__proto_']);
  t.is(Object.getPrototypeOf(poisoned), Object.prototype);
  t.is(surrogate, 'a\ufffd');
});

test('a record holding -0 is encoded from a copy; the caller\'s record is untouched', (t) => {
  const record = { a: -0, nested: { b: [-0] }, m: new Map([['k', -0]]) };
  const back = roundTrip(generalCodec(), [record])[0] as typeof record;
  t.true(Object.is(record.a, -0) && Object.is(record.nested.b[0], -0));
  t.true(Object.is(back.a, -0) && Object.is(back.nested.b[0], -0) && Object.is(back.m.get('k'), -0));
});

test('decoded records are independent, even when one object was written twice', (t) => {
  const shared = { list: [1, 2], bytes: new Uint8Array([7]) };
  const [x, y] = roundTrip(generalCodec(), [shared, shared]) as (typeof shared)[];
  x!.list.push(3);
  x!.bytes[0] = 9;
  t.deepEqual(y!.list, [1, 2]);
  t.is(y!.bytes[0], 7);
  t.not(x, shared);
});

test('decoded binaries are copies, not views of the reused decode buffer', (t) => {
  const codec = generalCodec();
  const [first] = roundTrip(codec, [Buffer.from([1, 2, 3])]) as Uint8Array[];
  roundTrip(codec, [Buffer.from([4, 5, 6])]);
  t.deepEqual([...first!], [1, 2, 3]);
});

test('frames decode on their own, out of order, with another codec instance', (t) => {
  const writer = generalCodec();
  const first = writer.encode([{ a: 1, b: 'x' }], 0, 1).slice();
  const second = writer.encode([{ a: 2, b: 'y' }, { c: 3 }], 0, 2).slice();
  const reader = generalCodec();
  t.deepEqual(decodeAll(reader, inSharedMemory(second, 5), 2), [{ a: 2, b: 'y' }, { c: 3 }]);
  t.deepEqual(decodeAll(reader, first, 1), [{ a: 1, b: 'x' }]);
});

test('encode takes the records start..end only', (t) => {
  const records = ['a', { b: -0 }, 'c', 'd'];
  t.deepEqual(roundTrip(generalCodec(), records, 1, 3), [{ b: -0 }, 'c']);
  t.deepEqual(roundTrip(generalCodec(), records, 4, 4), []);
  t.throws(() => generalCodec().encode(records, -1, 2), { instanceOf: RangeError });
});

test('a cycle, a symbol and a function are refused, naming the record', (t) => {
  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;
  const codec = generalCodec();
  t.throws(() => codec.encode([1, cyclic], 0, 2), { instanceOf: CodecError, message: /^record 1: general:msgpackr\/records-array\/v1: nested deeper than 1000 levels \(a cycle\?\)$/ });
  t.throws(() => codec.encode([1, 2, { s: Symbol('s') }], 0, 3), { instanceOf: CodecError, message: /^record 2: .*msgpackr cannot encode it \(Unknown type: symbol\)/ });
  t.throws(() => codec.encode([() => 1], 0, 1), { instanceOf: CodecError, message: /^record 0: .*a function cannot be encoded/ });
  t.deepEqual(roundTrip(codec, [1]), [1]);
});

test('a payload that does not decode, or holds another count, is reported', (t) => {
  const codec = generalCodec();
  const payload = codec.encode([1, 2], 0, 2).slice();
  t.throws(() => decodeAll(codec, payload, 3), { instanceOf: CodecError, message: /corrupt payload: expected an array of 3 records/ });
  t.throws(() => decodeAll(codec, payload.subarray(0, 2), 2), { instanceOf: CodecError, message: /corrupt payload/ });
});

/**
 * Values msgpackr carries faithfully. Left out, each covered by the test above: lone
 * surrogates (stringUnit 'grapheme' keeps strings well-formed), null-prototype objects,
 * sparse arrays, boxed primitives and "__proto__" keys.
 */
const values = fc.anything({
  maxDepth: 3,
  key: fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
  stringUnit: 'grapheme',
  withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true,
  withNullPrototype: false, withSparseArray: false, withBoxedValues: false, withObjectString: false,
});

test('any JSON-ish value round-trips, batch by batch, through shared memory', (t) => {
  const codec = generalCodec();
  t.notThrows(() => fc.assert(fc.property(fc.array(values, { maxLength: 12 }), (records) => {
    deepStrictEqual(roundTrip(codec, records), records);
  }), { numRuns: 500 }));
});

test('-0 anywhere in any value comes back as -0', (t) => {
  // "__proto__" keys are left out as above: msgpackr renames them (documented in general.ts).
  const withZeros = fc.anything({
    maxDepth: 3, values: [fc.constant(-0), fc.double(), fc.integer()], withMap: true, withSet: true,
    key: fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
  });
  t.notThrows(() => fc.assert(fc.property(fc.array(withZeros, { maxLength: 8 }), (records) => {
    deepStrictEqual(roundTrip(generalCodec(), records), records);
  }), { numRuns: 300 }));
});
