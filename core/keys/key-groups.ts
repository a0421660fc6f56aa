// Key groups: Flink's KeyGroupRangeAssignment formulas, from key hash to key group to subtask.
//
// A key belongs to key group murmur(keyHash(key)) % maxParallelism for the life of the job; a
// subtask owns one contiguous range of key groups, so rescaling moves whole ranges. The formulas
// and bounds are Flink's, so a key group means the same here as there given the same int hash.

import type { Key } from './encoding.ts';
import { keyHash } from './hash.ts';
import { finish, mixBlock } from './murmur3.ts';

/** Flink's KeyGroupRangeAssignment.DEFAULT_LOWER_BOUND_MAX_PARALLELISM. */
export const DEFAULT_LOWER_BOUND_MAX_PARALLELISM = 128;
/** Flink's UPPER_BOUND_MAX_PARALLELISM (1 << 15): key groups fit in a u16 and products in an int. */
export const UPPER_BOUND_MAX_PARALLELISM = 32768;

/** Key groups `start..end`, both inclusive (Flink's KeyGroupRange). */
export interface KeyGroupRange {
  readonly start: number;
  readonly end: number;
}

/** Flink's MathUtils.murmurHash(int): murmur3_x86_32 (seed 0) of the int's 4 little-endian bytes, made non-negative. */
export function flinkMurmurHash(code: number): number {
  const h = finish(mixBlock(0, code | 0), 4);
  // Java's -Integer.MIN_VALUE overflows back to itself, so Flink maps it to 0.
  return h >= 0 ? h : h === -0x80000000 ? 0 : -h;
}

/** Flink's MathUtils.roundUpToPowerOfTwo, for 1 <= x <= 2^30. */
export function roundUpToPowerOfTwo(x: number): number {
  return x <= 1 ? 1 : 2 ** (32 - Math.clz32(x - 1));
}

/** Flink's computeDefaultMaxParallelism: at least 128, at most 32768, about 1.5 x parallelism rounded up to a power of two. */
export function defaultMaxParallelism(parallelism: number): number {
  checkRange('parallelism', parallelism, UPPER_BOUND_MAX_PARALLELISM);
  const wanted = roundUpToPowerOfTwo(parallelism + Math.floor(parallelism / 2));
  return Math.min(Math.max(wanted, DEFAULT_LOWER_BOUND_MAX_PARALLELISM), UPPER_BOUND_MAX_PARALLELISM);
}

/** Checks 1 <= maxParallelism <= 32768 and 1 <= parallelism <= maxParallelism, naming the option that is wrong. */
export function checkParallelism(maxParallelism: number, parallelism: number): void {
  checkMaxParallelism(maxParallelism);
  checkRange('parallelism', parallelism, maxParallelism, 'maxParallelism');
}

export function checkMaxParallelism(maxParallelism: number): void {
  checkRange('maxParallelism', maxParallelism, UPPER_BOUND_MAX_PARALLELISM);
}

/** The key group of a key hash (an int32 such as keyHash returns): Flink's computeKeyGroupForKeyHash. */
export function keyGroupForHash(hash: number, maxParallelism: number): number {
  checkMaxParallelism(maxParallelism);
  return flinkMurmurHash(hash) % maxParallelism;
}

export function keyGroupOf(key: Key, maxParallelism: number): number {
  return keyGroupForHash(keyHash(key), maxParallelism);
}

/** The subtask that owns `keyGroup`: Flink's computeOperatorIndexForKeyGroup. */
export function operatorIndexForKeyGroup(maxParallelism: number, parallelism: number, keyGroup: number): number {
  checkParallelism(maxParallelism, parallelism);
  if (!(Number.isInteger(keyGroup) && keyGroup >= 0 && keyGroup < maxParallelism)) {
    throw new RangeError(`keyGroup must be an integer in 0..${maxParallelism - 1} (maxParallelism - 1), got ${keyGroup}`);
  }
  // keyGroup * parallelism < 2^30: exact in a double, as Flink's int arithmetic is.
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** The key groups subtask `operatorIndex` owns: Flink's computeKeyGroupRangeForOperatorIndex. */
export function keyGroupRangeForOperator(maxParallelism: number, parallelism: number, operatorIndex: number): KeyGroupRange {
  checkParallelism(maxParallelism, parallelism);
  if (!(Number.isInteger(operatorIndex) && operatorIndex >= 0 && operatorIndex < parallelism)) {
    throw new RangeError(`operator index must be an integer in 0..${parallelism - 1} (parallelism - 1), got ${operatorIndex}`);
  }
  return {
    start: Math.floor((operatorIndex * maxParallelism + parallelism - 1) / parallelism),
    end: Math.floor(((operatorIndex + 1) * maxParallelism - 1) / parallelism),
  };
}

// Runs per record on keyBy edges: the message is only built when the check fails.
function checkRange(option: string, value: number, max: number, maxName?: string): void {
  if (Number.isInteger(value) && value >= 1 && value <= max) return;
  const bound = maxName === undefined ? `${max}` : `${maxName} (${max})`;
  throw new RangeError(`${option} must be an integer in 1..${bound}, got ${String(value)}`);
}

/** Integer keys below this have their key group (keyGroupCache) or their channel (RecordWriter) remembered once computed. */
export const SMALL_KEYS = 1 << 16;

/**
 * keyGroupOf for one maxParallelism, with the key groups of small non-negative integer keys
 * (the common keyBy on an id or a bucket) kept in a table filled as keys are first seen:
 * a lookup instead of two murmur rounds per record. Other keys are hashed every time.
 */
export function keyGroupCache(maxParallelism: number): (key: Key) => number {
  checkMaxParallelism(maxParallelism);
  const memo = new Int16Array(SMALL_KEYS).fill(-1);
  return (key) => {
    if (typeof key === 'number' && (key >>> 0) === key && key < SMALL_KEYS) {
      const g = memo[key]!;
      return g >= 0 ? g : (memo[key] = keyGroupOf(key, maxParallelism));
    }
    return keyGroupOf(key, maxParallelism);
  };
}
