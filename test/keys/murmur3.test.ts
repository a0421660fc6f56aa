// murmur3_x86_32 against the published reference vectors (SMHasher's algorithm, as widely tabulated).

import test from 'ava';
import { murmur3 } from '../../core/keys/murmur3.ts';

const text = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => Uint8Array.from(b);

// [input, seed, expected as the unsigned value usually published]; also matched by the mmh3 package.
const VECTORS: Array<[Uint8Array, number, number]> = [
  [bytes(), 0, 0],
  [bytes(), 1, 0x514e28b7],
  [bytes(), 0xffffffff, 0x81f16f39],
  [bytes(0xff, 0xff, 0xff, 0xff), 0, 0x76293b50],
  [bytes(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
  [bytes(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
  [bytes(0x21, 0x43, 0x65), 0, 0x7e4a8634],
  [bytes(0x21, 0x43), 0, 0xa0f7b07a],
  [bytes(0x21), 0, 0x72661cf4],
  [bytes(0, 0, 0, 0), 0, 0x2362f9de],
  [bytes(0, 0, 0), 0, 0x85f0b427],
  [bytes(0, 0), 0, 0x30f4c306],
  [bytes(0), 0, 0x514e28b7],
  [text('abc'), 0, 0xb3dd93fa],
  [text('test'), 0, 0xba6bd213],
  [text('Hello, world!'), 0, 0xc0363e43],
  [text('Hello, world!'), 0x9747b28c, 0x24884cba],
  [text('aaaa'), 0x9747b28c, 0x5a97808a],
  [text('The quick brown fox jumps over the lazy dog'), 0, 0x2e4ff723],
  [text('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
];

test('murmur3 matches the reference vectors, as an int32', (t) => {
  for (const [input, seed, expected] of VECTORS) {
    t.is(murmur3(input, seed), expected | 0, `${Buffer.from(input).toString('hex')} seed ${seed.toString(16)}`);
  }
});

test('murmur3 reads only the view it is given', (t) => {
  const whole = bytes(9, 0x21, 0x43, 0x65, 0x87, 9);
  t.is(murmur3(whole.subarray(1, 5)), 0xf55b516b | 0);
});
