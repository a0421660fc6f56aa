// The LMDB backend's write cache on its own: flushes in key order, stays within budget, keeps hot entries, survives a failed flush.

import test from 'ava';
import fc from 'fast-check';
import { ENTRY_OVERHEAD, RADIX_MIN, sortByKey, WriteCache } from '../../core/state/write-cache.ts';
import type { CacheEntry } from '../../core/state/write-cache.ts';

type Index = Map<unknown, CacheEntry<null>>;

test('a flush hands over every dirty entry once, in key string order', (t) => {
  // Few tags and a 3-letter alphabet: many keys tie in their first chars, many end before the
  // 11 packed chars, many are prefixes of others.
  const char = fc.constantFrom(0, 1, 0xff).map((c) => String.fromCharCode(c));
  const key = fc.tuple(fc.constantFrom('\u0000', '\uffff'), fc.array(char, { maxLength: 14 })).map(([tag, cs]) => tag + cs.join(''));
  fc.assert(fc.property(fc.uniqueArray(key, { minLength: 50, maxLength: 300 }), (keys) => {
    let flushed: string[] = [];
    const cache = new WriteCache<null>(1e9, (sorted) => {
      flushed = sorted.map((e) => e.key);
    });
    const index: Index = new Map();
    for (const k of keys) cache.write(cache.create(index, k, k, null), 1, new Uint8Array(1), undefined);
    cache.flush();
    t.deepEqual(flushed, [...keys].sort());
  }));
});

test('a large flush (radix-sorted) is in key string order too, ties past the 11 radix chars included', (t) => {
  // Tags beyond 8 bits, bytes at both ends of their range, keys shorter than the radix chars,
  // and long keys that share their first 11 chars and differ later (map state under one key).
  const byte = fc.constantFrom(0, 1, 0x7f, 0x80, 0xff).map((c) => String.fromCharCode(c));
  const tag = fc.constantFrom('\u0000', '\u0001', '\u0100', '\u00ff');
  const key = fc.tuple(tag, fc.array(byte, { maxLength: 18 })).map(([g, cs]) => g + cs.join(''));
  fc.assert(fc.property(fc.uniqueArray(key, { minLength: RADIX_MIN, maxLength: RADIX_MIN + 500 }), (keys) => {
    const entries = keys.map((k) => ({ key: k }) as CacheEntry<null>);
    const sorted = sortByKey(entries).map((e) => e.key);
    t.deepEqual(sorted, [...keys].sort());
  }), { numRuns: 15 });
});

test('bytes stay within budget while dirty entries are flushed and clean ones evicted', (t) => {
  const budget = 64 * 1024;
  const store = new Map<string, unknown>();
  const cache = new WriteCache<null>(budget, (sorted) => {
    for (const e of sorted) store.set(e.key, e.value);
  });
  const index: Index = new Map();
  for (let i = 0; i < 20_000; i++) {
    const id = i % 3000;
    const entry = index.get(id) ?? cache.create(index, id, `\u0000key-${id}`, null);
    cache.write(entry, i, new Uint8Array(i % 100), undefined);
    t.true(cache.stats().bytes <= budget);
  }
  const stats = cache.stats();
  t.true(stats.flushes > 10);
  t.true(stats.evictions > 0);
  t.is(index.size, stats.entries, 'evicted entries leave their index');
  t.is([...index.values()].reduce((sum, e) => sum + e.size, 0), stats.bytes, 'bytes are the sum of the entries\' sizes');
  for (let id = 0; id < 3000; id++) {
    let last = id; // the last i with i % 3000 === id
    while (last + 3000 < 20_000) last += 3000;
    const entry = index.get(id);
    t.is(entry !== undefined ? entry.value : store.get(`\u0000key-${id}`), last, `id ${id}`);
  }
});

test('hot entries survive eviction; cold ones go first', (t) => {
  const size = 10 + ENTRY_OVERHEAD; // a 10-char key, absent
  const cache = new WriteCache<null>(100 * size, () => {});
  const index: Index = new Map();
  const hot = (i: number) => `\u0000hot-${String(i).padStart(5, '0')}`;
  for (let i = 0; i < 20; i++) cache.remember(index, hot(i), hot(i), null, false, undefined, 0);
  for (let i = 0; i < 1000; i++) {
    const cold = `\u0000c${String(i).padStart(8, '0')}`;
    cache.remember(index, cold, cold, null, false, undefined, 0);
    for (let h = 0; h < 20; h++) index.get(hot(h))!.referenced = true; // what a lookup does
  }
  for (let i = 0; i < 20; i++) t.true(index.has(hot(i)), hot(i));
  t.true(cache.stats().bytes <= 100 * size);
});

test('a failed flush leaves the entries dirty and readable, and the next flush writes them', (t) => {
  let fail = true;
  let written: string[] = [];
  const cache = new WriteCache<null>(1e9, (sorted) => {
    if (fail) throw new Error('disk full');
    written = sorted.map((e) => e.key);
  });
  const index: Index = new Map();
  cache.write(cache.create(index, 'b', '\u0000b', null), 'B', new Uint8Array(1), undefined);
  cache.write(cache.create(index, 'a', '\u0000a', null), 'A', new Uint8Array(1), undefined);
  t.throws(() => cache.flush(), { message: 'disk full' });
  t.is(index.get('a')!.value, 'A');
  t.is(cache.stats().dirtyEntries, 2);
  fail = false;
  cache.flush();
  t.deepEqual(written, ['\u0000a', '\u0000b']);
  t.is(cache.stats().dirtyEntries, 0);
});

test('an entry read into a full cache stays for the caller to use', (t) => {
  const size = 10 + ENTRY_OVERHEAD;
  const cache = new WriteCache<null>(10 * size, () => {});
  const index: Index = new Map();
  for (let i = 0; i < 100; i++) {
    const key = `\u0000k${String(i).padStart(8, '0')}`;
    const entry = cache.remember(index, key, key, null, true, i, 0);
    t.true(entry.linked && index.get(key) === entry, key);
    t.true(cache.stats().bytes <= 10 * size);
  }
});
