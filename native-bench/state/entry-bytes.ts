// Heap bytes per cached key of the LMDB write cache: what ENTRY_OVERHEAD (core/state/write-cache.ts) must charge beyond the key's chars and the value's bytes.
// 500K entries as a keyed count makes them (an 11-char latin1 key built per entry, a number id in the owner's Map, a
// small-integer value), counted as heap growth after GC. Run: npm exec -- node --expose-gc native-bench/state/entry-bytes.ts
import { ENTRY_OVERHEAD, WriteCache } from '../../core/state/write-cache.ts';
import type { CacheEntry } from '../../core/state/write-cache.ts';

const N = 500_000;
const KEY_CHARS = 11;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const cache = new WriteCache<object>(Number.MAX_SAFE_INTEGER, () => {});
const index = new Map<unknown, CacheEntry<object>>();
const owner = {};
gc();
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < N; i++) {
  const key = String.fromCharCode(1, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255, 3, 65, 66, 67, 68, 69);
  cache.remember(index, i, key, owner, true, i % 1000, 1);
}
gc();
gc();
const perEntry = (process.memoryUsage().heapUsed - before) / N;
console.log(`${N} entries: ${perEntry.toFixed(1)} heap bytes each, ${(perEntry - KEY_CHARS - 1).toFixed(1)} beyond an ${KEY_CHARS}-char key and a `
  + `1-byte value; ENTRY_OVERHEAD charges ${ENTRY_OVERHEAD} (${cache.stats().entries} entries held)`);
