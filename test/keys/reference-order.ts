// The key order the encoding promises, written directly on JS values, to test the bytes against.

import type { Key } from '../../core/keys/encoding.ts';

function rank(k: Key): number {
  if (k === false) return 0;
  if (k === true) return 1;
  if (typeof k === 'number') return 2;
  if (typeof k === 'bigint') return 3;
  if (typeof k === 'string') return 4;
  return 5;
}

/** Code point order, not JS `<` (which compares UTF-16 units and puts '\u{10000}' before '\uffff'). */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

export function compareKeys(a: Key, b: Key): number {
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  if (typeof a === 'string') return compareCodePoints(a, b as string);
  if (Array.isArray(a)) {
    const y = b as readonly Key[];
    for (let i = 0; i < Math.min(a.length, y.length); i++) {
      const c = compareKeys(a[i]!, y[i]!);
      if (c !== 0) return c;
    }
    return a.length - y.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** The key with every -0 made 0, which is what decoding an encoded key gives back. */
export function withoutNegativeZero(k: Key): Key {
  if (Array.isArray(k)) return k.map(withoutNegativeZero);
  return typeof k === 'number' ? k + 0 : k;
}
