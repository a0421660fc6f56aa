// Property tests for schema codecs: random type trees, random batches of matching records, round trips through shared memory.

import { deepStrictEqual } from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import type { Codec } from '../../core/codec/codec.ts';
import { checkerFor, codecFor } from '../../core/codec/schema.ts';
import { Types } from '../../core/codec/types.ts';
import type { TypeInfo } from '../../core/codec/types.ts';
import { inSharedMemory, roundTrip } from './helpers.ts';

const primitives = [Types.INT8, Types.INT16, Types.INT32, Types.UINT8, Types.UINT16, Types.UINT32,
  Types.FLOAT32, Types.FLOAT64, Types.BIGINT64, Types.BOOLEAN, Types.STRING];

const numbers = [Types.INT8, Types.INT16, Types.INT32, Types.UINT8, Types.UINT16, Types.UINT32, Types.FLOAT32, Types.FLOAT64];

const { type } = fc.letrec<{ type: TypeInfo }>((tie) => ({
  type: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...primitives),
    fc.array(tie('type'), { maxLength: 4 }).map((elements) => Types.TUPLE(...elements)),
    // Tuples of numbers only: integers beside floats take a decoder path of their own (mixedNumbers).
    fc.array(fc.constantFrom(...numbers), { minLength: 1, maxLength: 4 }).map((elements) => Types.TUPLE(...elements)),
    fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'), tie('type'), { maxKeys: 4 }).map((fields) => Types.ROW(fields)),
    tie('type').map((inner) => Types.NULLABLE(inner)),
    tie('type').map((element) => Types.ARRAY(element))),
}));

/** Records of the type, as anyone might write them: any double, any string (lone surrogates included). */
function valueOf(t: TypeInfo): fc.Arbitrary<unknown> {
  switch (t.kind) {
    case 'int8': return fc.integer({ min: -128, max: 127 });
    case 'int16': return fc.integer({ min: -32768, max: 32767 });
    case 'int32': return fc.integer();
    case 'uint8': return fc.integer({ min: 0, max: 255 });
    case 'uint16': return fc.integer({ min: 0, max: 65535 });
    case 'uint32': return fc.integer({ min: 0, max: 4294967295 });
    case 'float32': case 'float64': return fc.double();
    case 'bigint64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'boolean': return fc.boolean();
    case 'string': return fc.string({ unit: 'binary', maxLength: 40 });
    case 'tuple': return fc.tuple(...t.elements.map(valueOf));
    case 'row': return fc.record(Object.fromEntries(t.fields.map((f) => [f.name, valueOf(f.type)])));
    case 'nullable': return fc.oneof(fc.constant(null), fc.constant(undefined), valueOf(t.inner));
    case 'array': return fc.array(valueOf(t.element), { maxLength: 5 });
  }
}

/** What decoding should give back (deepStrictEqual tells -0 from 0): FLOAT32 rounded by Math.fround, strings made well-formed, rows with their declared fields. */
function expected(t: TypeInfo, v: unknown): unknown {
  switch (t.kind) {
    case 'float32': return Math.fround(v as number);
    case 'string': return (v as string).toWellFormed();
    case 'tuple': return t.elements.map((e, i) => expected(e, (v as unknown[])[i]));
    case 'row': return Object.fromEntries(t.fields.map((f) => [f.name, expected(f.type, (v as Record<string, unknown>)[f.name])]));
    case 'nullable': return v === null || v === undefined ? v : expected(t.inner, v);
    case 'array': return (v as unknown[]).map((e) => expected(t.element, e));
    default: return v;
  }
}

const batches = type.chain((t) => fc.tuple(fc.constant(t), fc.array(valueOf(t), { maxLength: 30 })));

test('any batch of any type round-trips through shared memory', (t) => {
  t.notThrows(() => fc.assert(fc.property(batches, ([type, records]) => {
    deepStrictEqual(roundTrip(codecFor(type), records), records.map((r) => expected(type, r)), type.descriptor);
  }), { numRuns: 300 }));
});

test('any sub-range of a batch round-trips, with one codec reused across batches', (t) => {
  t.notThrows(() => fc.assert(fc.property(batches.chain(([type, records]) => fc.tuple(
    fc.constant(type), fc.constant(records),
    fc.nat(records.length), fc.nat(records.length),
  )), ([type, records, a, b]) => {
    const codec = codecFor(type);
    const [start, end] = a <= b ? [a, b] : [b, a];
    deepStrictEqual(roundTrip(codec, records, start, end), records.slice(start, end).map((r) => expected(type, r)));
    deepStrictEqual(roundTrip(codec, records), records.map((r) => expected(type, r)));
  }), { numRuns: 200 }));
});

test('a fused decodeRange decodes what decode does, in calls of any sizes, and with reuse gives one object for every tuple or row', (t) => {
  t.notThrows(() => fc.assert(fc.property(batches.chain(([type, records]) => fc.tuple(
    fc.constant(type), fc.constant(records), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 8 }), fc.boolean(),
  )), ([type, records, sizes, reuse]) => {
    const codec = codecFor(type);
    const payload = inSharedMemory(codec.encode(records, 0, records.length));
    const copies: unknown[] = [];
    const seen = new Set<unknown>();
    const decodeRange = codec.fuseRange!({
      names: ['s_copies', 's_seen'], values: [copies, seen], body: 's_copies.push(structuredClone(v)); s_seen.add(v);',
      fail: (err) => { throw err; },
    }, reuse);
    // The frame in calls of the given sizes, round and round, as the input gate splits it between its checks.
    let p = 0;
    for (let from = 0, k = 0; from < records.length; k++) {
      const to = Math.min(records.length, from + sizes[k % sizes.length]!);
      p = decodeRange(payload, records.length, p, from, to);
      from = to;
    }
    deepStrictEqual(copies, records.map((r) => expected(type, r)), type.descriptor);
    const objects = type.kind === 'tuple' || type.kind === 'row';
    // A tuple of integers and floats is never reused: an array made once holds unboxed doubles (tuple-elements.test.ts).
    const reused = reuse && objects && !mixedNumbers(type);
    if (reused && records.length > 0) deepStrictEqual(seen.size, 1, `${type.descriptor}: one reused record`);
    if (!reused && objects) deepStrictEqual(seen.size, records.length, `${type.descriptor}: a record each`);
  }), { numRuns: 300 }));
});

test('a fused decodeRange gives what its statements throw to fail, and throws a decode error as it is', (t) => {
  const codec = codecFor(Types.TUPLE(Types.INT32, Types.FLOAT64));
  const payload = inSharedMemory(codec.encode([[1, 0.5], [2, 1.5], [3, 2.5]], 0, 3));
  const failed: unknown[] = [];
  const decodeRange = codec.fuseRange!({
    names: [], values: [], body: 'if (v[0] === 2) throw new RangeError("two");',
    fail: (err) => { failed.push(err); throw new Error('named by fail'); },
  }, false);
  t.throws(() => decodeRange(payload, 3, 0, 0, 3), { message: 'named by fail' });
  t.is((failed[0] as Error).message, 'two');
  // A truncated frame: the size check fails before any record, and fail is not called.
  t.throws(() => decodeRange(payload.subarray(0, 30), 3, 0, 0, 3), { name: 'CodecError', message: /corrupt payload: 3 records of 12 bytes need 36 bytes, the payload has 30/ });
  t.is(failed.length, 1);
});

const INTEGERS = ['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32'];
const FLOATS = ['float32', 'float64'];
function mixedNumbers(type: TypeInfo): boolean {
  if (type.kind !== 'tuple') return false;
  const kinds = type.elements.map((e) => e.kind as string);
  return kinds.every((k) => INTEGERS.includes(k) || FLOATS.includes(k)) && kinds.some((k) => INTEGERS.includes(k)) && kinds.some((k) => FLOATS.includes(k));
}

/** A value of the type, or any JSON-ish value in its place: about half of them do not match. */
const maybeMatching = (t: TypeInfo) => fc.oneof(valueOf(t), fc.anything({ maxDepth: 2 }));

test('the emit-time checker accepts and rejects exactly what the encoder does, with the same message', (t) => {
  fc.assert(fc.property(type.chain((ty) => fc.tuple(fc.constant(ty), maybeMatching(ty))), ([ty, value]) => {
    const message = (f: () => unknown) => { try { f(); return null; } catch (err) { return (err as Error).message; } };
    const byEncoder = message(() => codecFor(ty).encode([value], 0, 1));
    const byChecker = message(() => checkerFor(ty)(value));
    deepStrictEqual(byChecker, byEncoder);
  }), { numRuns: 2000 });
  t.pass();
});

test('the trusted encoder writes the bytes the checked one does, and encodeInto and encodeRecord write them in place for fixed-size types', (t) => {
  let fixed = 0;
  fc.assert(fc.property(batches.chain(([type, records]) => fc.tuple(fc.constant(type), fc.constant(records), fc.nat(64))),
    ([type, records, offset]) => {
      const checked = codecFor(type);
      const trusted = codecFor(type, { trusted: true });
      const bytes = checked.encode(records, 0, records.length).slice();
      deepStrictEqual(trusted.encode(records, 0, records.length).slice(), bytes, type.descriptor);
      deepStrictEqual(checked.recordBytes, trusted.recordBytes);
      if (checked.recordBytes === undefined) {
        deepStrictEqual(checked.encodeInto, undefined);
        deepStrictEqual(checked.encodeRecord, undefined);
        return;
      }
      fixed++;
      deepStrictEqual(bytes.length, checked.recordBytes * records.length);
      // Into a shared buffer at an offset, as a ring's reserved space: the same bytes, nothing written around them.
      for (const c of [checked, trusted]) {
        const target = new Uint8Array(new SharedArrayBuffer(offset + bytes.length + 8)).fill(0xa5);
        c.encodeInto!(records, 0, records.length, target, new DataView(target.buffer), offset);
        deepStrictEqual(target.subarray(offset, offset + bytes.length), new Uint8Array(bytes));
        deepStrictEqual([...target.subarray(0, offset), ...target.subarray(offset + bytes.length)].every((b) => b === 0xa5), true);
        // One record at a time, as a writer that encodes records as they are emitted does.
        const one = new Uint8Array(offset + bytes.length + 8).fill(0xa5);
        const view = new DataView(one.buffer);
        records.forEach((r, i) => c.encodeRecord!(r, one, view, offset + i * c.recordBytes!));
        deepStrictEqual(one.subarray(offset, offset + bytes.length), new Uint8Array(bytes));
        deepStrictEqual([...one.subarray(0, offset), ...one.subarray(offset + bytes.length)].every((b) => b === 0xa5), true);
      }
    }), { numRuns: 300 });
  t.true(fixed > 0, 'some generated types were of fixed size');
});

test('the checked encodeInto and encodeRecord refuse a record that does not match, as encode does', (t) => {
  const codec = codecFor(Types.TUPLE(Types.INT32, Types.FLOAT64)) as Codec;
  const target = new Uint8Array(64);
  const error = t.throws(() => codec.encodeInto!([[1, 2.5], ['x', 1]], 0, 2, target, new DataView(target.buffer), 0));
  t.regex(error?.message ?? '', /\[0\].*int32/);
  const one = t.throws(() => codec.encodeRecord!(['x', 1], target, new DataView(target.buffer), 0));
  t.regex(one?.message ?? '', /\[0\].*int32/);
});
