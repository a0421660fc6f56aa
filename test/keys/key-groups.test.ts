// Key groups follow Flink's KeyGroupRangeAssignment: golden values from Flink's own code, and partition properties.

import test from 'ava';
import fc from 'fast-check';
import {
  checkParallelism,
  defaultMaxParallelism,
  flinkMurmurHash,
  keyGroupForHash,
  keyGroupOf,
  keyGroupRangeForOperator,
  operatorIndexForKeyGroup,
} from '../../core/keys/key-groups.ts';
import { murmur3 } from '../../core/keys/murmur3.ts';
import { GOLDEN_KEYS } from './golden.ts';

// Outputs of Flink's MathUtils.murmurHash(int), run in Java.
const FLINK_MURMUR: Array<[input: number, output: number]> = [
  [0, 593689054],
  [1, 68075478],
  [-1, 1982413648],
  [2, 1085422463],
  [42, 1134849565],
  [100, 616682048],
  [12345, 638799361],
  [2147483647, 1653689534],
  [-2147483648, 1718298732],
  [32767, 1389705724],
  [-123456789, 1470798557],
  [987654321, 359423800],
];

test("flinkMurmurHash matches Flink's MathUtils.murmurHash", (t) => {
  for (const [input, output] of FLINK_MURMUR) t.is(flinkMurmurHash(input), output, `murmurHash(${input})`);
});

test('flinkMurmurHash is murmur3 of the int as 4 little-endian bytes, made non-negative', (t) => {
  fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (x) => {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setInt32(0, x, true);
    const h = murmur3(bytes);
    t.is(flinkMurmurHash(x), h === -(2 ** 31) ? 0 : Math.abs(h));
  }), { numRuns: 5000 });
});

test("Java String keys land where Flink puts them (keyGroupForHash over String.hashCode)", (t) => {
  // 'a'.hashCode() = 97, 'hello' = 99162322, 'user-12345' = 440384433; groups from Flink at maxParallelism 128.
  t.is(keyGroupForHash(97, 128), 81);
  t.is(keyGroupForHash(99162322, 128), 35);
  t.is(keyGroupForHash(440384433, 128), 122);
});

test('golden key groups of keys at maxParallelism 128', (t) => {
  for (const [k, , , group] of GOLDEN_KEYS) t.is(keyGroupOf(k, 128), group, `key ${String(k)}`);
});

test("defaultMaxParallelism follows Flink's computeDefaultMaxParallelism", (t) => {
  const expected: Array<[number, number]> = [
    [1, 128], [2, 128], [3, 128], [85, 128], [86, 256], [100, 256], [1000, 2048],
    [21845, 32768], [30000, 32768], [32768, 32768],
  ];
  for (const [p, maxP] of expected) t.is(defaultMaxParallelism(p), maxP, `p=${p}`);
});

test("key group ranges are Flink's", (t) => {
  const expected: Array<[maxP: number, p: number, ranges: string]> = [
    [128, 3, '0-42 43-85 86-127'],
    [128, 5, '0-25 26-51 52-76 77-102 103-127'],
    [10, 3, '0-3 4-6 7-9'],
    [32768, 7, '0-4681 4682-9362 9363-14043 14044-18724 18725-23405 23406-28086 28087-32767'],
    [128, 1, '0-127'],
    [7, 7, '0-0 1-1 2-2 3-3 4-4 5-5 6-6'],
  ];
  for (const [maxP, p, ranges] of expected) {
    const actual = Array.from({ length: p }, (_, i) => keyGroupRangeForOperator(maxP, p, i));
    t.is(actual.map((r) => `${r.start}-${r.end}`).join(' '), ranges, `maxParallelism ${maxP}, parallelism ${p}`);
  }
});

test('the ranges partition the key groups, and operatorIndexForKeyGroup agrees with them', (t) => {
  const few = (maxP: number) => fc.integer({ min: 1, max: Math.min(maxP, 200) });
  const many = (maxP: number) => fc.integer({ min: Math.max(1, maxP - 200), max: maxP });
  const shape = fc.integer({ min: 1, max: 32768 }).chain((maxP) => fc.tuple(fc.constant(maxP), fc.oneof(few(maxP), many(maxP))));
  t.notThrows(() => fc.assert(fc.property(shape, ([maxP, p]) => {
    const owner = new Int32Array(maxP).fill(-1);
    for (let i = 0; i < p; i++) {
      const { start, end } = keyGroupRangeForOperator(maxP, p, i);
      for (let g = start; g <= end; g++) {
        if (owner[g] !== -1) return false; // owned twice
        owner[g] = i;
      }
    }
    // Every group owned, and by the subtask operatorIndexForKeyGroup names.
    return owner.every((i, g) => i === operatorIndexForKeyGroup(maxP, p, g));
  }), { numRuns: 200 }));
});

test('key groups are in range for any hash', (t) => {
  fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 32768 }), (h, maxP) => {
    const g = keyGroupForHash(h, maxP);
    t.true(Number.isInteger(g) && g >= 0 && g < maxP);
  }));
});

test('bad parallelism options are RangeErrors naming the option', (t) => {
  const bad: Array<[() => unknown, RegExp]> = [
    [() => checkParallelism(0, 1), /^maxParallelism must be an integer in 1\.\.32768, got 0$/],
    [() => checkParallelism(32769, 1), /maxParallelism .* got 32769/],
    [() => checkParallelism(1.5, 1), /maxParallelism .* got 1.5/],
    [() => checkParallelism(128, 0), /^parallelism must be an integer in 1\.\.maxParallelism \(128\), got 0$/],
    [() => checkParallelism(128, 129), /parallelism .* got 129/],
    [() => keyGroupForHash(1, 0), /maxParallelism/],
    [() => keyGroupForHash(1, Number.NaN), /maxParallelism .* got NaN/],
    [() => defaultMaxParallelism(0), /^parallelism must be an integer in 1\.\.32768, got 0$/],
    [() => defaultMaxParallelism(40000), /parallelism/],
    [() => keyGroupRangeForOperator(128, 4, 4), /operator index must be an integer in 0\.\.3/],
    [() => keyGroupRangeForOperator(128, 200, 0), /parallelism .*maxParallelism \(128\)/],
    [() => operatorIndexForKeyGroup(128, 4, 128), /keyGroup must be an integer in 0\.\.127/],
    [() => operatorIndexForKeyGroup(128, 4, -1), /keyGroup/],
  ];
  for (const [call, message] of bad) t.throws(call, { instanceOf: RangeError, message }, String(message));
});
