// Key handling: canonical encoding, stable hash, Map ids and key groups (what state backends and keyBy edges use).

export { decodeKey, decodeKeyAt } from './decoding.ts';
export { encodeKey, encodeKeyTransient, MAX_BIGINT_BYTES, MAX_KEY_DEPTH } from './encoding.ts';
export type { Key } from './encoding.ts';
export { KeyDecodeError, KeyError } from './errors.ts';
export { keyHash, numberKeyHash, stringKeyHash } from './hash.ts';
export { keyId, stringKeyId } from './key-id.ts';
export type { KeyId } from './key-id.ts';
export {
  checkMaxParallelism,
  checkParallelism,
  DEFAULT_LOWER_BOUND_MAX_PARALLELISM,
  defaultMaxParallelism,
  flinkMurmurHash,
  keyGroupForHash,
  keyGroupOf,
  keyGroupRangeForOperator,
  operatorIndexForKeyGroup,
  roundUpToPowerOfTwo,
  UPPER_BOUND_MAX_PARALLELISM,
} from './key-groups.ts';
export type { KeyGroupRange } from './key-groups.ts';
export { murmur3 } from './murmur3.ts';
