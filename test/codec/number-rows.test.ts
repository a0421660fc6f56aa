// The general codec's number-rows frames: flat number objects of one shape round-trip; anything else falls back to msgpack.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { generalCodec } from '../../core/codec/general.ts';
import { isNumberRows } from '../../core/codec/number-rows.ts';

function roundTrip(records: unknown[]): { out: unknown[]; rows: boolean } {
  const c = generalCodec();
  const payload = c.encode(records, 0, records.length);
  const rows = isNumberRows(payload);
  // Decode from shared memory at an 8-aligned and at an odd offset, as a ring would hand it.
  const out: unknown[] = [];
  for (const offset of [8, 3]) {
    const view = new Uint8Array(new SharedArrayBuffer(payload.length + 16), offset, payload.length);
    view.set(payload);
    out.length = 0;
    generalCodec().decode(view, records.length, (r) => out.push(r));
  }
  return { out, rows };
}

test('flat objects of number values use number rows and round-trip, -0, NaN and infinities included', (t) => {
  const records = [{ k: 1, v: -0 }, { k: NaN, v: Infinity }, { k: -Infinity, v: 2.5 }, { k: 2 ** 53 + 2, v: -1e-300 }];
  const { out, rows } = roundTrip(records);
  t.true(rows);
  t.deepEqual(out, records);
  t.true(Object.is((out[0] as { v: number }).v, -0));
});

test('integral values come back as the same numbers on both sides of the int32 bounds, -0 as -0', (t) => {
  // The decoder hands int32 values back as int32s (V8's representation, not the value): every one must be Object.is the original.
  const values = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53, -(2 ** 53), 0.5, -0.5, 1e-300, NaN];
  const records = values.map((v, i) => ({ k: i, v }));
  const { out, rows } = roundTrip(records);
  t.true(rows);
  out.forEach((r, i) => {
    t.true(Object.is((r as { v: number }).v, values[i]), `value ${Object.is(values[i], -0) ? '-0' : values[i]}`);
    t.is((r as { k: number }).k, i);
  });
});

test('property: any batch of one-shape number objects round-trips', (t) => {
  fc.assert(fc.property(
    fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__'), { minLength: 1, maxLength: 6 }),
    fc.array(fc.array(fc.double(), { minLength: 6, maxLength: 6 }), { minLength: 1, maxLength: 40 }),
    (keys, values) => {
      const records = values.map((vs) => Object.fromEntries(keys.map((k, i) => [k, vs[i]!])));
      const { out, rows } = roundTrip(records);
      return rows && JSON.stringify(out.map((r) => Object.entries(r as object).map(([k, v]) => [k, Object.is(v, -0) ? '-0' : String(v)])))
        === JSON.stringify(records.map((r) => Object.entries(r).map(([k, v]) => [k, Object.is(v, -0) ? '-0' : String(v)])));
    }), { numRuns: 200 });
  t.pass();
});

test('anything else in the frame falls back to msgpack, unchanged', (t) => {
  const cases: unknown[][] = [
    [{ k: 1, v: 2 }, { k: 1, v: '2' }],          // a string value
    [{ k: 1, v: 2 }, { k: 1, w: 2 }],            // another shape
    [{ k: 1, v: 2 }, { k: 1, v: 2, x: 3 }],      // more keys
    [{ k: 1, v: { n: 1 } }],                     // nested
    [new (class P { k = 1; })()],                // a class instance
    [1, 2, 3],                                   // not objects
    [JSON.parse('{"__proto__": 1}')],            // a key that would set the prototype
    [{ k: 1, v: 2 }, new (class P { k = 1; v = 2; })()], // a class instance of the same shape after a plain one
    [{ k: 1, v: 2 }, Object.assign(Object.create(null), { k: 1, v: 2 })], // no prototype
  ];
  for (const records of cases) {
    const { out, rows } = roundTrip(records);
    t.false(rows, JSON.stringify(records));
    t.is(out.length, records.length);
  }
  t.deepEqual(roundTrip([{ k: 1, v: 2 }, { k: 1, v: '2' }]).out, [{ k: 1, v: 2 }, { k: 1, v: '2' }]);
});

test('a record whose enumerable own keys are not the shape\'s, in order, is never a number row, and comes back as its own keys', (t) => {
  function F(this: { k: number }) { this.k = 4; }
  F.prototype = { v: 0 };
  const nonEnumerable = Object.create(Object.prototype, { v: { value: 5, enumerable: false } }) as object;
  const cases: [string, unknown][] = [
    ['an inherited enumerable key', Object.assign(Object.create({ v: 0 }) as object, { k: 3 })],
    ['every key inherited', Object.create({ k: 8, v: 9 })],
    ['an ES5 constructor whose prototype holds a key', new (F as unknown as new () => object)()],
    ['an inherited non-enumerable key beside an extra own one', Object.assign(Object.create(nonEnumerable) as object, { k: 3, x: 9 })],
    ['an own non-enumerable key beside an extra own one', Object.defineProperty({ k: 2, x: 9 }, 'v', { value: 7 })],
    ['a proxy that makes up values', new Proxy({ k: 3, x: 9 }, { get: (o, p) => (p in o ? (o as Record<string | symbol, unknown>)[p] : 0) })],
    ['the same keys in another order', { v: 4, k: 3 }],
  ];
  for (const [what, record] of cases) {
    const { out, rows } = roundTrip([{ k: 1, v: 2 }, record]);
    t.false(rows, what);
    t.deepEqual(out, [{ k: 1, v: 2 }, Object.fromEntries(Object.keys(record as object).map((k) => [k, (record as Record<string, unknown>)[k]]))], what);
  }
  // A key named constructor is a key like any other.
  const own = roundTrip([{ k: 1, constructor: 2 }, { k: 3, constructor: 4 }]);
  t.true(own.rows);
  t.deepEqual(own.out, [{ k: 1, constructor: 2 }, { k: 3, constructor: 4 }]);
});

test('number rows are written under --disable-proto=throw and =delete too, where __proto__ cannot be read', (t) => {
  const general = new URL('../../core/codec/general.ts', import.meta.url).href;
  const rows = new URL('../../core/codec/number-rows.ts', import.meta.url).href;
  const code = `import { generalCodec } from ${JSON.stringify(general)};
import { isNumberRows } from ${JSON.stringify(rows)};
const records = [{ k: 1, v: 2 }, { k: 3, v: 4.5 }];
const payload = generalCodec().encode(records, 0, 2);
const copy = new Uint8Array(new SharedArrayBuffer(payload.length + 8), 8, payload.length);
copy.set(payload);
const out = [];
generalCodec().decode(copy, 2, (r) => out.push(r));
console.log(JSON.stringify({ rows: isNumberRows(payload), out }));`;
  for (const mode of ['throw', 'delete']) {
    const printed = execFileSync(process.execPath, [`--disable-proto=${mode}`, '--input-type=module', '-e', code], { encoding: 'utf8' });
    t.deepEqual(JSON.parse(printed), { rows: true, out: [{ k: 1, v: 2 }, { k: 3, v: 4.5 }] }, mode);
  }
});
