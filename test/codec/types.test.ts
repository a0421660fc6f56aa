// Tests for Types: descriptors, constructors and their argument checks.

import test from 'ava';
import { Types, isTypeInfo } from '../../core/codec/types.ts';
import type { RecordOf, TypeInfo } from '../../core/codec/types.ts';

test('descriptors name every type and nest', (t) => {
  const row = Types.ROW({
    user: Types.INT32,
    'unit price': Types.FLOAT32,
    tags: Types.ARRAY(Types.STRING),
    pair: Types.NULLABLE(Types.TUPLE(Types.BIGINT64, Types.BOOLEAN)),
    small: Types.TUPLE(Types.INT8, Types.INT16, Types.UINT8, Types.UINT16, Types.UINT32, Types.FLOAT64),
  });
  t.is(row.descriptor,
    'row<user:int32,"unit price":float32,tags:array<string>,pair:nullable<tuple<bigint64,boolean>>,' +
    'small:tuple<int8,int16,uint8,uint16,uint32,float64>>');
  t.is(Types.TUPLE().descriptor, 'tuple<>');
});

test('equal types have equal descriptors, different ones differ', (t) => {
  t.is(Types.TUPLE(Types.INT32, Types.FLOAT64).descriptor, Types.TUPLE(Types.INT32, Types.FLOAT64).descriptor);
  t.not(Types.TUPLE(Types.INT32, Types.FLOAT64).descriptor, Types.TUPLE(Types.FLOAT64, Types.INT32).descriptor);
  t.not(Types.ROW({ a: Types.INT32, b: Types.INT32 }).descriptor, Types.ROW({ b: Types.INT32, a: Types.INT32 }).descriptor);
});

test('NULLABLE of a NULLABLE is the same type', (t) => {
  const once = Types.NULLABLE(Types.STRING);
  t.is(Types.NULLABLE(once), once);
});

test('types are frozen', (t) => {
  const tuple = Types.TUPLE(Types.INT32);
  t.true(Object.isFrozen(tuple) && Object.isFrozen(tuple.elements) && Object.isFrozen(Types) && Object.isFrozen(Types.INT32));
});

test('constructors reject what is not a type, naming the position', (t) => {
  const bad = 'int32' as unknown as TypeInfo;
  t.throws(() => Types.TUPLE(Types.INT32, bad), { instanceOf: TypeError, message: /TUPLE element 1 must be a type from Types/ });
  t.throws(() => Types.ROW({ amount: bad }), { instanceOf: TypeError, message: /ROW field amount must be a type/ });
  t.throws(() => Types.ARRAY(bad), { instanceOf: TypeError, message: /ARRAY element type/ });
  t.throws(() => Types.NULLABLE(undefined as unknown as TypeInfo), { instanceOf: TypeError, message: /NULLABLE type/ });
  t.throws(() => Types.ROW(null as unknown as Record<string, TypeInfo>), { instanceOf: TypeError, message: /ROW needs an object/ });
});

test('ROW refuses a "__proto__" field', (t) => {
  t.throws(() => Types.ROW(JSON.parse('{"__proto__": "x"}') as Record<string, TypeInfo>), { message: /__proto__/ });
});

test('isTypeInfo tells types from look-alikes', (t) => {
  t.true(isTypeInfo(Types.ROW({ a: Types.STRING })));
  t.false(isTypeInfo({ kind: 'int32' }));
  t.false(isTypeInfo({ kind: 'decimal', descriptor: 'decimal' }));
  t.false(isTypeInfo(null));
});

test('record types are inferred from the type (checked by tsc)', (t) => {
  const row = Types.ROW({ user: Types.INT32, tags: Types.ARRAY(Types.STRING), n: Types.NULLABLE(Types.BIGINT64) });
  const value: RecordOf<typeof row> = { user: 1, tags: ['a'], n: null };
  const tuple = Types.TUPLE(Types.INT32, Types.FLOAT64);
  const pair: RecordOf<typeof tuple> = [1, 2.5];
  // @ts-expect-error a string does not fit an INT32 element
  const wrong: RecordOf<typeof tuple> = ['1', 2.5];
  t.deepEqual([value.user, pair[1], wrong.length], [1, 2.5, 2]);
});
