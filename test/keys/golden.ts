// Golden key vectors: [key, keyHash, canonical bytes as hex, key group at maxParallelism 128].
//
// Computed outside this codebase, so they check it rather than echo it: the bytes and hashes by an
// independent Python encoder written from the format in core/keys/encoding.ts, hashed with the
// mmh3 package (SMHasher's C murmur3); the key groups by Flink's own MathUtils.murmurHash (Java)
// over those hashes. Changing any row means every checkpoint's key groups move: don't.

import type { Key } from '../../core/keys/encoding.ts';

export const GOLDEN_KEYS: ReadonlyArray<readonly [key: Key, hash: number, hex: string, keyGroup128: number]> = [
  [0, 1481675266, '308000000000000000', 80],
  [-0, 1481675266, '308000000000000000', 80],
  [1, -2057947172, '30bff0000000000000', 45],
  [-1, -199523462, '30400fffffffffffff', 73],
  [42, 1791271748, '30c045000000000000', 69],
  [2147483647, -1284818979, '30c1dfffffffc00000', 123],
  [-2147483648, 1207216334, '303e1fffffffffffff', 90],
  [Number.MAX_SAFE_INTEGER, -824343945, '30c33fffffffffffff', 5],
  [1.5, -1961740171, '30bff8000000000000', 87],
  [-0.25, 440240764, '30402fffffffffffff', 72],
  [1e300, 854214343, '30fe37e43c8800759c', 58],
  [Infinity, 1625499702, '30fff0000000000000', 89],
  [-Infinity, -1315455662, '30000fffffffffffff', 109],
  [Number.MIN_VALUE, 467143781, '308000000000000001', 88],
  ['', 230121128, '500000', 59],
  ['a', 468069319, '50610000', 115],
  ['hello', 1551034507, '5068656c6c6f0000', 56],
  ['user-12345', 719229105, '50757365722d31323334350000', 115],
  ['h\u00e9llo', 1932100858, '5068c3a96c6c6f0000', 29],
  ['\u65e5\u672c\u8a9e', 14587352, '50e697a5e69cace8aa9e0000', 61],
  ['\u{1F600}', -479184601, '50f09f98800000', 127],
  ['a\u0000b', 875165627, '506100ff620000', 52],
  [true, 1919294708, '21', 109],
  [false, 2129959832, '20', 42],
  [0n, 223733940, '4080', 100],
  [1n, -983626050, '408101', 62],
  [-1n, -284338127, '407ffe', 92],
  [255n, 648827235, '4081ff', 25],
  [-256n, -261286326, '407efeff', 106],
  [2n ** 64n, -342543396, '4089010000000000000000', 108],
  [-(2n ** 64n), -1036693221, '4077feffffffffffffffff', 34],
  [[], 1050122618, '6000', 78],
  [[1, 'a'], 1107943852, '6030bff00000000000005061000000', 123],
  [['user', 42], -1722771948, '605075736572000030c04500000000000000', 107],
  [[1n, -1.5, ''], -860349202, '60408101304007ffffffffffff50000000', 66],
  [[[1, 2], ['x', [true]]], 478586322, '606030bff000000000000030c0000000000000000060507800006021000000', 125],
];
