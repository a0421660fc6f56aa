// Key hash throughput per keyBy record: the allocation-free number and string paths beside hashing the encoding.
//
// Expect: numberKeyHash and stringKeyHash of short ASCII keys at tens of millions per second, and
// several times the baseline murmur3(encodeKey(key)), which allocates the encoding per record.
// Each case has its own loop so its call site stays monomorphic, as it is on a keyBy edge.
// Run: npm exec -- node native-bench/keys-explore.ts

import { encodeKey } from '../core/keys/encoding.ts';
import { keyHash, numberKeyHash, stringKeyHash } from '../core/keys/hash.ts';
import { keyGroupOf } from '../core/keys/key-groups.ts';
import { keyId } from '../core/keys/key-id.ts';
import { murmur3 } from '../core/keys/murmur3.ts';

const KEYS = 4096; // a working set that stays in cache, so the figure is the hash, not memory
const MASK = KEYS - 1;
const CALLS = 5_000_000;
const ROUNDS = 5;

/** Millions of calls per second, best of ROUNDS; `loop` makes CALLS calls and returns a value so they are not dead code. */
let checksum = 0;

function rate(name: string, loop: () => number): number {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    checksum ^= loop();
    best = Math.min(best, Number(process.hrtime.bigint() - start));
  }
  const millions = (CALLS / best) * 1e3;
  console.log(`${name.padEnd(44)} ${millions.toFixed(1).padStart(7)} M/s ${(best / CALLS).toFixed(1).padStart(7)} ns`);
  return millions;
}

// Keys as decoded from input are flat strings; a template literal longer than 12 characters is a
// rope (ConsString) whose every charCodeAt costs an indirection, so the inputs are flattened.
const flat = (s: string): string => Buffer.from(s).toString();

const ints = Array.from({ length: KEYS }, (_, i) => i * 7919);
const doubles = Array.from({ length: KEYS }, () => Math.random() * 1e6);
const short = Array.from({ length: KEYS }, (_, i) => flat(`user-${i}`));
const medium = Array.from({ length: KEYS }, (_, i) => flat(`customer:eu-west:${i.toString(36).padStart(16, '0')}`));
const accented = Array.from({ length: KEYS }, (_, i) => flat(`müller-straße-${i}`));
const tuples = Array.from({ length: KEYS }, (_, i) => [flat(`user-${i}`), i] as const);

const intFast = rate('numberKeyHash(int)', () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= numberKeyHash(ints[i & MASK]!);
  return x;
});
const intBase = rate('  baseline murmur3(encodeKey(int))', () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= murmur3(encodeKey(ints[i & MASK]!));
  return x;
});
rate('keyHash(int)', () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= keyHash(ints[i & MASK]!);
  return x;
});
rate('numberKeyHash(double)', () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= numberKeyHash(doubles[i & MASK]!);
  return x;
});
const strFast = rate("stringKeyHash('user-1234')", () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= stringKeyHash(short[i & MASK]!);
  return x;
});
const strBase = rate("  baseline murmur3(encodeKey('user-1234'))", () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= murmur3(encodeKey(short[i & MASK]!));
  return x;
});
rate("keyHash('user-1234')", () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= keyHash(short[i & MASK]!);
  return x;
});
rate('stringKeyHash(33 ASCII chars)', () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= stringKeyHash(medium[i & MASK]!);
  return x;
});
rate("stringKeyHash('müller-straße-1234')", () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= stringKeyHash(accented[i & MASK]!);
  return x;
});
rate("keyHash(['user-1234', 1234])", () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= keyHash(tuples[i & MASK]!);
  return x;
});
rate('keyGroupOf(int, 128)', () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= keyGroupOf(ints[i & MASK]!, 128);
  return x;
});
rate("keyId(['user-1234', 1234])", () => {
  let x = 0;
  for (let i = 0; i < CALLS; i++) x ^= (keyId(tuples[i & MASK]!) as string).length;
  return x;
});
console.log(`number keys: fast path ${(intFast / intBase).toFixed(1)}x the encode-then-hash baseline`);
console.log(`string keys: fast path ${(strFast / strBase).toFixed(1)}x the encode-then-hash baseline`);
console.log(`(checksum ${checksum}, so no loop is dead code)`);
