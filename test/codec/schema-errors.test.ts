// Tests for schema codec errors: records that do not fit their type, and payloads that do not decode.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import { CodecError } from '../../core/codec/errors.ts';
import { codecFor } from '../../core/codec/schema.ts';
import { Types } from '../../core/codec/types.ts';
import type { TypeInfo } from '../../core/codec/types.ts';
import { decodeAll } from './helpers.ts';

/** Encodes [good, bad] and checks the error names the record, the descriptor and path, and the value (bad itself unless given). */
function refuses(t: ExecutionContext, type: TypeInfo, good: unknown, bad: unknown, message: string, path: string, ...offending: [unknown?]): void {
  const error = t.throws(() => codecFor(type).encode([good, bad], 0, 2), { instanceOf: CodecError });
  t.is(error?.message, message);
  t.is(error?.recordIndex, 1);
  t.is(error?.path, path);
  t.is(error?.descriptor, type.descriptor);
  t.is(error?.value, offending.length > 0 ? offending[0] : bad);
}

const ROW = Types.ROW({ user: Types.INT32, amount: Types.FLOAT64, tag: Types.STRING });

test('a string in an INT32 field', (t) => {
  refuses(t, Types.TUPLE(Types.INT32, Types.FLOAT64), [1, 2], ['1', 2],
    "record 1: tuple<int32,float64>[0]: expected int32 (an integer from -2147483648 to 2147483647), got '1' (string)", '[0]', '1');
});

test('a missing ROW field', (t) => {
  refuses(t, ROW, { user: 1, amount: 2, tag: 'a' }, { user: 1, tag: 'a' },
    'record 1: row<user:int32,amount:float64,tag:string>.amount: expected float64 (a number), got undefined (missing?)', '.amount', undefined);
});

test('null in a field that is not NULLABLE', (t) => {
  refuses(t, ROW, { user: 1, amount: 2, tag: 'a' }, { user: 1, amount: 2, tag: null },
    'record 1: row<user:int32,amount:float64,tag:string>.tag: expected string, got null', '.tag', null);
});

test('integers out of range or with a fraction', (t) => {
  refuses(t, Types.INT8, 127, 128, 'record 1: int8: expected int8 (an integer from -128 to 127), got 128 (number)', '');
  refuses(t, Types.INT16, -32768, -32769, 'record 1: int16: expected int16 (an integer from -32768 to 32767), got -32769 (number)', '');
  refuses(t, Types.INT32, 1, 1.5, 'record 1: int32: expected int32 (an integer from -2147483648 to 2147483647), got 1.5 (number)', '');
  refuses(t, Types.INT32, 1, 2 ** 31, 'record 1: int32: expected int32 (an integer from -2147483648 to 2147483647), got 2147483648 (number)', '');
  refuses(t, Types.UINT8, 255, -1, 'record 1: uint8: expected uint8 (an integer from 0 to 255), got -1 (number)', '');
  refuses(t, Types.UINT16, 0, 65536, 'record 1: uint16: expected uint16 (an integer from 0 to 65535), got 65536 (number)', '');
  refuses(t, Types.UINT32, 0, NaN, 'record 1: uint32: expected uint32 (an integer from 0 to 4294967295), got NaN (number)', '');
  refuses(t, Types.INT32, 0, true, 'record 1: int32: expected int32 (an integer from -2147483648 to 2147483647), got true (boolean)', '');
});

test('a number for BIGINT64, and a bigint out of its range', (t) => {
  refuses(t, Types.BIGINT64, 1n, 1, 'record 1: bigint64: expected bigint64 (a bigint from -(2n ** 63n) to 2n ** 63n - 1n), got 1 (number)', '');
  refuses(t, Types.BIGINT64, 1n, 2n ** 63n,
    'record 1: bigint64: expected bigint64 (a bigint from -(2n ** 63n) to 2n ** 63n - 1n), got 9223372036854775808n (bigint)', '');
});

test('a bigint or a string for FLOAT64, a number for BOOLEAN', (t) => {
  refuses(t, Types.FLOAT64, 1, 1n, 'record 1: float64: expected float64 (a number), got 1n (bigint)', '');
  refuses(t, Types.FLOAT32, 1, '1', "record 1: float32: expected float32 (a number), got '1' (string)", '');
  refuses(t, Types.BOOLEAN, true, 1, 'record 1: boolean: expected boolean, got 1 (number)', '');
});

test('wrong shapes: a tuple of the wrong length, a row that is not an object, an array that is not one', (t) => {
  refuses(t, Types.TUPLE(Types.INT32, Types.INT32), [1, 2], [1, 2, 3],
    'record 1: tuple<int32,int32>: expected an array of 2 for tuple<int32,int32>, got [ 1, 2, 3 ] (array)', '');
  refuses(t, ROW, { user: 1, amount: 2, tag: 'a' }, 'row',
    "record 1: row<user:int32,amount:float64,tag:string>: expected an object for row<user:int32,amount:float64,tag:string>, got 'row' (string)", '');
  refuses(t, Types.ARRAY(Types.INT8), [1], { length: 1 },
    'record 1: array<int8>: expected an array for array<int8>, got { length: 1 } (object)', '');
});

test('paths reach into nested rows, tuples, arrays and nullables', (t) => {
  const type = Types.ROW({ items: Types.ARRAY(Types.ROW({ 'unit price': Types.NULLABLE(Types.TUPLE(Types.STRING, Types.UINT8)) })) });
  const good = { items: [] };
  const bad = { items: [{ 'unit price': null }, { 'unit price': ['ok', 300] }] };
  refuses(t, type, good, bad,
    'record 1: row<items:array<row<"unit price":nullable<tuple<string,uint8>>>>>.items[1]["unit price"][1]: ' +
    'expected uint8 (an integer from 0 to 255), got 300 (number)', '.items[1]["unit price"][1]', 300);
});

test('the record index counts from the start of the records array, not from start', (t) => {
  const error = t.throws(() => codecFor(Types.INT32).encode([0, 1, 'x', 3] as unknown as number[], 1, 4), { instanceOf: CodecError });
  t.is(error?.recordIndex, 2);
  t.regex(error?.message ?? '', /^record 2: int32:/);
});

test('a failed encode leaves the codec usable', (t) => {
  const codec = codecFor(Types.STRING);
  t.throws(() => codec.encode(['a', 5] as unknown as string[], 0, 2), { instanceOf: CodecError });
  t.deepEqual(decodeAll(codec, codec.encode(['b'], 0, 1), 1), ['b']);
});

test('long offending values are shortened in the message', (t) => {
  const error = t.throws(() => codecFor(Types.INT32).encode(['x'.repeat(10_000)] as unknown as number[], 0, 1), { instanceOf: CodecError });
  t.true((error?.message.length ?? Infinity) < 300);
});

test('a truncated payload, left-over bytes and a wrong count are reported, not decoded', (t) => {
  const fixed = codecFor(Types.TUPLE(Types.INT32, Types.FLOAT64));
  const bytes = fixed.encode([[1, 2], [3, 4]], 0, 2).slice();
  t.throws(() => decodeAll(fixed, bytes.subarray(0, 20), 2), { instanceOf: CodecError, message: /corrupt payload: 2 records of 12 bytes need 24 bytes, the payload has 20/ });
  t.throws(() => decodeAll(fixed, bytes, 3), { instanceOf: CodecError, message: /corrupt payload/ });

  const variable = codecFor(Types.ROW({ s: Types.STRING, n: Types.INT32 }));
  const payload = variable.encode([{ s: 'abc', n: 1 }, { s: 'de', n: 2 }], 0, 2).slice();
  t.throws(() => decodeAll(variable, payload.subarray(0, payload.length - 1), 2),
    { instanceOf: CodecError, message: /^record 1: row<s:string,n:int32>: corrupt payload: the payload ends inside the record$/ });
  t.throws(() => decodeAll(variable, payload.subarray(0, 5), 1), { instanceOf: CodecError, message: /a string of 3 bytes runs past the payload/ });
  t.throws(() => decodeAll(variable, payload, 1), { instanceOf: CodecError, message: /bytes are left after 1 records/ });
});

test('impossible lengths and tags in a payload are reported', (t) => {
  const arrays = codecFor(Types.ARRAY(Types.STRING));
  t.throws(() => decodeAll(arrays, Uint8Array.of(0xff, 0xff, 0xff, 0x7f), 1), { instanceOf: CodecError, message: /an array of 2147483647 elements runs past/ });
  const nullable = codecFor(Types.NULLABLE(Types.INT8));
  t.throws(() => decodeAll(nullable, Uint8Array.of(7, 0), 1), { instanceOf: CodecError, message: /nullable tag 7 is none of 0, 1, 2/ });
});
