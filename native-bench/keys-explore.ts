// Key hash throughput per keyBy record: the allocation-free number and string paths beside hashing the encoding.
//
// Expect: numberKeyHash and stringKeyHash of short ASCII keys at tens of millions per second, and
// several times the baseline murmur3(encodeKey(key)), which allocates the encoding per record.
// Each case's loop is compiled from its own source so its call site stays monomorphic, as on a keyBy edge.
// Run: npm exec -- node native-bench/keys-explore.ts

import { encodeKey } from '../core/keys/encoding.ts';
import { keyHash, numberKeyHash, stringKeyHash } from '../core/keys/hash.ts';
import { keyGroupOf } from '../core/keys/key-groups.ts';
import { keyId } from '../core/keys/key-id.ts';
import { murmur3 } from '../core/keys/murmur3.ts';
import { fresh } from '../actors/runtime/fresh.ts';

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

/**
 * A loop over `inputs` calling `f` CALLS times, compiled from its own source so that each case's
 * call site stays monomorphic, as it is on a keyBy edge (one shared loop would see every f).
 */
function loopOf(f: (k: never) => unknown, inputs: readonly unknown[], use = 'f(inputs[i & MASK])'): () => number {
  return fresh<() => number>(['f', 'inputs', 'MASK', 'CALLS'],
    `return function loop() { let x = 0; for (let i = 0; i < CALLS; i++) x ^= ${use}; return x; };`, f, inputs, MASK, CALLS);
}

const intFast = rate('numberKeyHash(int)', loopOf(numberKeyHash, ints));
const intBase = rate('  baseline murmur3(encodeKey(int))', loopOf((k: number) => murmur3(encodeKey(k)), ints));
rate('keyHash(int)', loopOf(keyHash, ints));
rate('numberKeyHash(double)', loopOf(numberKeyHash, doubles));
const strFast = rate("stringKeyHash('user-1234')", loopOf(stringKeyHash, short));
const strBase = rate("  baseline murmur3(encodeKey('user-1234'))", loopOf((k: string) => murmur3(encodeKey(k)), short));
rate("keyHash('user-1234')", loopOf(keyHash, short));
rate('stringKeyHash(33 ASCII chars)', loopOf(stringKeyHash, medium));
rate("stringKeyHash('müller-straße-1234')", loopOf(stringKeyHash, accented));
rate("keyHash(['user-1234', 1234])", loopOf(keyHash, tuples));
rate('keyGroupOf(int, 128)', loopOf((k: number) => keyGroupOf(k, 128), ints));
rate("keyId(['user-1234', 1234])", loopOf(keyId, tuples, '(f(inputs[i & MASK])).length'));
console.log(`number keys: fast path ${(intFast / intBase).toFixed(1)}x the encode-then-hash baseline`);
console.log(`string keys: fast path ${(strFast / strBase).toFixed(1)}x the encode-then-hash baseline`);
console.log(`(checksum ${checksum}, so no loop is dead code)`);
