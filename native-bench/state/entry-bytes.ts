// Bytes per cached key of the LMDB write cache: what ENTRY_OVERHEAD (core/state/write-cache.ts) must charge beyond the key's
// chars and the value's bytes, and what SLAB_ENTRY_BYTES (core/state/number-slab.ts) charges per slab key.
// 500K entries as a keyed count makes them (an 11-char latin1 key built per entry, a number id in the owner's Map, a
// small-integer value), counted as heap growth after GC; then 500K number keys in a slab, counted as heap and
// array-buffer growth. Run: npm exec -- node --expose-gc native-bench/state/entry-bytes.ts
import { ENTRY_OVERHEAD, WriteCache } from '../../core/state/write-cache.ts';
import type { CacheEntry } from '../../core/state/write-cache.ts';
import { SLAB_ENTRY_BYTES } from '../../core/state/number-slab.ts';

const N = 500_000;
const KEY_CHARS = 11;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const held = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Each measure holds what it built until it has counted it; the next one starts after collecting it. */
function entries(): string {
  const cache = new WriteCache<object>(Number.MAX_SAFE_INTEGER, () => {});
  const index = new Map<unknown, CacheEntry<object>>();
  const owner = {};
  const before = held();
  for (let i = 0; i < N; i++) {
    const key = String.fromCharCode(1, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255, 3, 65, 66, 67, 68, 69);
    cache.remember(index, i, key, owner, true, i % 1000, 1);
  }
  const perEntry = (held() - before) / N;
  return `${cache.stats().entries} entries: ${perEntry.toFixed(1)} bytes each, ${(perEntry - KEY_CHARS - 1).toFixed(1)} beyond an `
    + `${KEY_CHARS}-char key and a 1-byte value; ENTRY_OVERHEAD charges ${ENTRY_OVERHEAD}`;
}

function slab(): string {
  const cache = new WriteCache<object>(Number.MAX_SAFE_INTEGER, () => {});
  const before = held();
  const s = cache.newSlab();
  for (let i = 0; i < N; i++) s.insert(i * 7919, i & 127, i % 1000, false);
  const perKey = (held() - before) / N;
  return `${s.live} slab keys: ${perKey.toFixed(1)} bytes each (${s.capacity} slots, load ${(s.live / s.capacity).toFixed(2)}); `
    + `SLAB_ENTRY_BYTES charges ${SLAB_ENTRY_BYTES}`;
}

console.log(entries());
console.log(slab());
