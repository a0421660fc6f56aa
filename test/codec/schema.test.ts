// Tests for schema codecs: round trips of every type with its edge values, through shared memory at odd offsets.

import test from 'ava';
import { codecFor } from '../../core/codec/schema.ts';
import { Types } from '../../core/codec/types.ts';
import type { TypeInfo } from '../../core/codec/types.ts';
import { decodeAll, inSharedMemory, roundTrip } from './helpers.ts';

const same = <T>(type: TypeInfo<T>, values: readonly T[]) => roundTrip(codecFor(type), values);

test('integers keep their extremes', (t) => {
  t.deepEqual(same(Types.INT8, [-128, -1, 0, 127]), [-128, -1, 0, 127]);
  t.deepEqual(same(Types.INT16, [-32768, -1, 0, 32767]), [-32768, -1, 0, 32767]);
  t.deepEqual(same(Types.INT32, [-2147483648, -1, 0, 2147483647]), [-2147483648, -1, 0, 2147483647]);
  t.deepEqual(same(Types.UINT8, [0, 128, 255]), [0, 128, 255]);
  t.deepEqual(same(Types.UINT16, [0, 32768, 65535]), [0, 32768, 65535]);
  t.deepEqual(same(Types.UINT32, [0, 2147483648, 4294967295]), [0, 2147483648, 4294967295]);
});

test('an integer field takes -0 as 0', (t) => {
  t.true(Object.is(same(Types.INT32, [-0])[0], 0));
});

test('FLOAT64 keeps -0, NaN, infinities, subnormals and extremes bit for bit', (t) => {
  const values = [-0, 0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE, 0.1, 2 ** 53 + 2];
  const back = same(Types.FLOAT64, values);
  t.is(back.length, values.length);
  values.forEach((v, i) => t.true(Object.is(back[i], v), `value ${i}`));
});

test('FLOAT32 rounds as Math.fround rounds; out-of-range values become infinities', (t) => {
  const values = [0.1, 1 / 3, -0, NaN, 3.4e38, 1e39, -1e39, 1e-46, 16777217];
  const back = same(Types.FLOAT32, values);
  values.forEach((v, i) => t.true(Object.is(back[i], Math.fround(v)), `value ${i}: ${v}`));
  t.not(back[0], 0.1);
  t.is(back[5], Infinity);
});

test('BIGINT64 keeps the signed 64-bit extremes', (t) => {
  const values = [-(2n ** 63n), -1n, 0n, 1n, 2n ** 63n - 1n];
  t.deepEqual(same(Types.BIGINT64, values), values);
});

test('BOOLEAN', (t) => {
  t.deepEqual(same(Types.BOOLEAN, [true, false, true]), [true, false, true]);
});

test('STRING: empty, ASCII around the hand-decoded length, non-ASCII, astral plane', (t) => {
  const values = ['', 'a', 'x'.repeat(8), 'x'.repeat(16), 'x'.repeat(17), 'héllo wörld', '日本語', '😀 astral 𝄞', 'mixed ascii then é at the end!!'];
  t.deepEqual(same(Types.STRING, values), values);
});

test('STRING longer than 64 KiB, ASCII and multi-byte, grows the scratch buffer', (t) => {
  const values = ['a'.repeat(70_000), 'é😀'.repeat(40_000), 'z'];
  t.deepEqual(same(Types.STRING, values), values);
});

test('STRING writes lone surrogates as U+FFFD, as TextEncoder does', (t) => {
  t.deepEqual(same(Types.STRING, ['a\ud800b', '\udc00']), ['a\ufffdb', '\ufffd']);
});

test('TUPLE and ROW nest; ROW decodes its fields in declared order', (t) => {
  const type = Types.ROW({ id: Types.INT32, at: Types.TUPLE(Types.FLOAT64, Types.ROW({ x: Types.INT8, y: Types.STRING })), ok: Types.BOOLEAN });
  const values = [{ id: 1, at: [2.5, { x: -3, y: 'why' }] as const, ok: true }, { id: 2, at: [-0, { x: 0, y: '' }] as const, ok: false }];
  const back = same(type, values);
  t.deepEqual(back, values);
  t.deepEqual(Object.keys(back[0]!), ['id', 'at', 'ok']);
});

test('ROW drops fields the type does not declare', (t) => {
  const type = Types.ROW({ a: Types.INT32 });
  t.deepEqual(same(type, [{ a: 1, extra: 'x' } as { a: number }]), [{ a: 1 }]);
});

test('NULLABLE keeps null, undefined and values apart; a missing field reads as undefined', (t) => {
  t.deepEqual(same(Types.NULLABLE(Types.INT32), [null, undefined, 0, 5]), [null, undefined, 0, 5]);
  const row = Types.ROW({ a: Types.INT32, b: Types.NULLABLE(Types.STRING) });
  const back = same(row, [{ a: 1 } as { a: number; b: string }, { a: 2, b: null }, { a: 3, b: 'x' }]);
  t.deepEqual(back, [{ a: 1, b: undefined }, { a: 2, b: null }, { a: 3, b: 'x' }]);
  t.true('b' in back[0]!);
});

test('ARRAY: empty, long, of fixed-size and of variable-size elements, nested', (t) => {
  t.deepEqual(same(Types.ARRAY(Types.INT32), [[], [1], Array.from({ length: 20_000 }, (_, i) => i - 10_000)]),
    [[], [1], Array.from({ length: 20_000 }, (_, i) => i - 10_000)]);
  const nested = Types.ARRAY(Types.ARRAY(Types.NULLABLE(Types.STRING)));
  const values = [[], [[]], [['a', null], [undefined, 'é']]];
  t.deepEqual(same(nested, values), values);
  const tuples = Types.ARRAY(Types.TUPLE(Types.UINT8, Types.FLOAT64));
  t.deepEqual(same(tuples, [[[1, 1.5], [255, -0]]]), [[[1, 1.5], [255, -0]]]);
});

test('TUPLE of nothing encodes to nothing', (t) => {
  const codec = codecFor(Types.TUPLE());
  t.is(codec.encode([[], []], 0, 2).length, 0);
  t.deepEqual(decodeAll(codec, new Uint8Array(0), 2), [[], []]);
});

test('encode takes the records start..end only', (t) => {
  const codec = codecFor(Types.TUPLE(Types.INT32, Types.STRING));
  const records = [[0, 'a'], [1, 'b'], [2, 'c'], [3, 'd']] as const;
  t.deepEqual(roundTrip(codec, records, 1, 3), [[1, 'b'], [2, 'c']]);
  t.deepEqual(roundTrip(codec, records, 2, 2), []);
  t.throws(() => codec.encode(records, 3, 5), { instanceOf: RangeError, message: /\[3, 5\) is not within 0\.\.4/ });
  t.throws(() => codec.encode(records, 2, 1), { instanceOf: RangeError });
});

test('frames decode on their own, out of order, with another codec instance', (t) => {
  const type = Types.ROW({ k: Types.STRING, v: Types.FLOAT64 });
  const writer = codecFor(type);
  const first = writer.encode([{ k: 'a', v: 1 }], 0, 1).slice();
  const second = writer.encode([{ k: 'b', v: 2 }, { k: 'c', v: 3 }], 0, 2).slice();
  const reader = codecFor(type);
  t.deepEqual(decodeAll(reader, inSharedMemory(second, 1), 2), [{ k: 'b', v: 2 }, { k: 'c', v: 3 }]);
  t.deepEqual(decodeAll(reader, first, 1), [{ k: 'a', v: 1 }]);
});

test('the encode result is a view of the scratch buffer that the next encode reuses', (t) => {
  const codec = codecFor(Types.INT32);
  const first = codec.encode([1], 0, 1);
  const copy = first.slice();
  codec.encode([2], 0, 1);
  t.notDeepEqual(first, copy);
  t.deepEqual(decodeAll(codec, copy, 1), [1]);
});

test('decoded records are fresh objects, independent of each other and of the input', (t) => {
  const codec = codecFor(Types.ROW({ a: Types.ARRAY(Types.INT32) }));
  const shared = { a: [1, 2] };
  const [x, y] = roundTrip(codec, [shared, shared]);
  x!.a.push(3);
  t.deepEqual(y, { a: [1, 2] });
  t.deepEqual(shared, { a: [1, 2] });
  t.not(x, shared);
});

test('the wire format is little-endian and packed, as documented in schema.ts', (t) => {
  const codec = codecFor(Types.TUPLE(Types.INT16, Types.NULLABLE(Types.STRING), Types.BOOLEAN));
  const bytes = codec.encode([[0x0102, 'hi', true], [-1, null, false]], 0, 2);
  t.deepEqual([...bytes], [0x02, 0x01, 1, 2, 0, 0, 0, 0x68, 0x69, 1, 0xff, 0xff, 0, 0]);
});

test('a codec descriptor names the schema', (t) => {
  t.is(codecFor(Types.TUPLE(Types.INT32, Types.FLOAT64)).descriptor, 'schema:tuple<int32,float64>');
});
