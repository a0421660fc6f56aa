// LMDB state scans: MapState entries in key byte order, removeAll, and TTL cleanup that resumes where it stopped.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import type { BackendContext } from '../../core/state/backend.ts';
import { openLmdbBackend } from '../../core/state/lmdb-backend.ts';
import type { LmdbBackend } from '../../core/state/lmdb-backend.ts';
import { serializerFor } from '../../core/state/serializers.ts';
import { decodeKey } from '../../core/keys/decoding.ts';
import { encodeKey } from '../../core/keys/encoding.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { keyGroupOf } from '../../core/keys/key-groups.ts';
import { key as anyKey } from '../keys/arbitraries.ts';
import { compareKeys } from '../keys/reference-order.ts';

const MAX_PARALLELISM = 128;
const ctx: BackendContext = { uid: 'scan', subtask: 0, maxParallelism: MAX_PARALLELISM, keyGroups: { start: 0, end: 127 } };
const general = serializerFor(undefined);

function openTemp(t: ExecutionContext, cacheBytes = 1 << 20): LmdbBackend {
  const dir = mkdtempSync(join(tmpdir(), 'weir-lmdb-scan-'));
  const backend = openLmdbBackend(dir, ctx, { cacheBytes });
  t.teardown(() => {
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return backend;
}

function setKey(backend: LmdbBackend, key: Key): void {
  backend.setCurrentKey({ key, keyGroup: keyGroupOf(key, MAX_PARALLELISM) });
}

test('MapState entries come in key order, whether flushed, pending or both', (t) => {
  const backend = openTemp(t);
  const table = backend.table('m', general);
  fc.assert(fc.property(fc.uniqueArray(anyKey, { selector: (k) => Buffer.from(encodeKey(k)).toString('hex'), maxLength: 40 }), fc.nat(), (keys, split) => {
    setKey(backend, ['case', split]);
    table.removeAll('');
    backend.flush();
    const cut = keys.length === 0 ? 0 : split % keys.length;
    keys.forEach((k, i) => {
      if (i === cut) backend.flush(); // keys before the cut are in LMDB, the rest pending
      table.put('', k, i);
    });
    const expected = keys.map((k, i): [Key, number] => [decodeKey(encodeKey(k)), i]).sort((a, b) => compareKeys(a[0], b[0]));
    t.deepEqual([...table.entries('')], expected);
  }), { numRuns: 200 });
});

test('entries of numbers and strings across batches: numeric order, then strings by code point', (t) => {
  const backend = openTemp(t);
  const table = backend.table('m', general);
  setKey(backend, 'k');
  const numbers = Array.from({ length: 700 }, (_, i) => (i - 350) * 1.5);
  const strings = Array.from({ length: 300 }, (_, i) => `s${i}`);
  // Odd-indexed writes are flushed first, even ones stay pending, and some flushed ones are overwritten or removed.
  [...numbers, ...strings].forEach((k, i) => i % 2 === 1 && table.put('', k, `old ${k}`));
  backend.flush();
  [...numbers, ...strings].forEach((k, i) => i % 2 === 0 && table.put('', k, `new ${k}`));
  table.put('', 1.5, 'replaced');
  table.remove('', -1.5);
  setKey(backend, 'other');
  table.put('', 0, 'another key');
  table.put('w', 0, 'another namespace');
  setKey(backend, 'k');

  const seen = [...table.entries('')];
  const label = (k: Key, i: number) => (k === 1.5 ? 'replaced' : `${i % 2 === 0 ? 'new' : 'old'} ${k}`);
  const written = [...numbers, ...strings].map((k, i): [Key, string] => [k, label(k, i)]);
  const expected = written.filter(([k]) => k !== -1.5).sort((a, b) => compareKeys(a[0], b[0]));
  t.deepEqual(seen, expected);
});

test('removeAll removes the map of the current key and namespace only, pending or flushed', (t) => {
  const backend = openTemp(t);
  const table = backend.table('m', general);
  const fill = (key: Key, ns: string) => {
    setKey(backend, key);
    for (let i = 0; i < 600; i++) table.put(ns, i, i);
  };
  fill('a', '');
  fill('a', 'w');
  backend.flush();
  fill('b', '');
  setKey(backend, 'a');
  table.put('', 1000, 'pending');
  table.removeAll('');
  t.deepEqual([...table.entries('')], []);
  t.is(table.get('', 5), undefined);
  t.is([...table.entries('w')].length, 600);
  setKey(backend, 'b');
  t.is([...table.entries('')].length, 600);
  backend.flush();
  setKey(backend, 'a');
  t.is(table.get('', 1000), undefined);
  t.is(table.db.getCount(), 1200);
});

test('cleanupStep visits at most its budget, removes only expired values and resumes where it stopped', (t) => {
  const backend = openTemp(t);
  const table = backend.table('ttl', general);
  for (let i = 0; i < 100; i++) {
    setKey(backend, i);
    table.put('', undefined, { id: i, expired: i % 3 === 0 });
  }
  backend.flush();
  // Pending writes win over what LMDB holds: a refreshed value is not expired any more.
  setKey(backend, 3);
  table.put('', undefined, { id: 3, expired: false });

  const visits: number[] = [];
  const expired = (v: unknown) => {
    const { id, expired } = v as { id: number; expired: boolean };
    visits.push(id);
    return expired;
  };
  let removed = 0;
  for (let step = 0; step < 9; step++) {
    const before = visits.length;
    removed += table.cleanupStep(11, expired);
    t.is(visits.length - before, 11);
  }
  t.is(new Set(visits).size, 99, 'nothing visited twice in 99 steps');
  removed += table.cleanupStep(11, expired); // the last entry, then 10 rows from the start
  const firstPass = visits.slice(0, 100);
  t.is(new Set(firstPass).size, 100);
  t.is(removed, 33);
  // Rows removed in the first pass still count against the budget until a flush drops them.
  const survives = (id: number) => id % 3 !== 0 || id === 3;
  t.deepEqual(visits.slice(100), firstPass.slice(0, 10).filter(survives));
  for (let i = 0; i < 100; i++) {
    setKey(backend, i);
    t.is(table.get('', undefined) === undefined, i % 3 === 0 && i !== 3, `key ${i}`);
  }
});

test('cleanupStep over number values (the slab\'s keys): pending writes win, removals reach LMDB, clean and dirty keys alike', (t) => {
  const backend = openTemp(t, 8 * 1024); // room for about 200 slab keys: the rest are evicted
  const table = backend.table('counts', general);
  for (let i = 0; i < 300; i++) {
    setKey(backend, i);
    table.put('', undefined, i);
  }
  backend.flush();
  // Pending: even keys below 100 become odd values (kept), and key 1 becomes 2 (expired).
  for (let i = 0; i < 100; i += 2) {
    setKey(backend, i);
    table.put('', undefined, i + 1);
  }
  setKey(backend, 1);
  table.put('', undefined, 2);
  t.true(backend.cacheStats().evictions > 0);
  const expired = (v: unknown) => (v as number) % 2 === 0;
  let removed = 0;
  for (let step = 0; step < 30; step++) removed += table.cleanupStep(10, expired);
  const keep = (i: number) => i !== 1 && (i < 100 || i % 2 === 1);
  t.is(removed, 300 - [...Array(300).keys()].filter(keep).length);
  const check = () => {
    for (let i = 0; i < 300; i++) {
      setKey(backend, i);
      t.is(table.get('', undefined), keep(i) ? (i < 100 && i % 2 === 0 ? i + 1 : i) : undefined, `key ${i}`);
    }
  };
  check();
  backend.flush();
  t.is(table.db.getCount(), [...Array(300).keys()].filter(keep).length);
  check();
});

test('cleanupStep on a small table wraps around within one call without visiting an entry twice', (t) => {
  const backend = openTemp(t);
  const table = backend.table('ttl', general);
  for (let i = 0; i < 5; i++) {
    setKey(backend, i);
    table.put('', undefined, i);
  }
  backend.flush();
  const visits: unknown[] = [];
  table.cleanupStep(3, (v) => (visits.push(v), false));
  table.cleanupStep(100, (v) => (visits.push(v), false));
  t.is(visits.length, 3 + 5);
  t.deepEqual(visits.slice(3).sort(), [0, 1, 2, 3, 4]);
});

test('removeAll and cleanupStep through a cache too small for one batch', (t) => {
  const backend = openTemp(t, 4096);
  const table = backend.table('m', general);
  setKey(backend, 'k');
  for (let i = 0; i < 600; i++) table.put('', i, i);
  backend.flush();
  for (let i = 0; i < 600; i += 7) t.is(table.get('', i), i); // cached clean entries, evicted as the removals go
  table.removeAll('');
  t.deepEqual([...table.entries('')], []);
  t.is(table.get('', 7), undefined);
  backend.flush();
  t.is(table.db.getCount(), 0);

  const ttl = backend.table('ttl', general);
  for (let i = 0; i < 600; i++) {
    setKey(backend, i);
    ttl.put('', undefined, i);
  }
  backend.flush();
  for (let i = 0; i < 600; i += 7) {
    setKey(backend, i);
    ttl.get('', undefined);
  }
  t.is(ttl.cleanupStep(600, (v) => (v as number) % 2 === 0), 300);
  backend.flush();
  t.is(ttl.db.getCount(), 300);
});
