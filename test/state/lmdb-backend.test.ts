// LMDB state backend: read-your-writes through the write cache against a model, the key layout on disk, errors, budget.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { open } from 'lmdb';
import type { BackendContext, ValueSerializer } from '../../core/state/backend.ts';
import { openLmdbBackend } from '../../core/state/lmdb-backend.ts';
import type { LmdbBackend } from '../../core/state/lmdb-backend.ts';
import { serializerFor } from '../../core/state/serializers.ts';
import { Types } from '../../core/codec/types.ts';
import { encodeKey } from '../../core/keys/encoding.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { keyGroupOf, keyGroupRangeForOperator } from '../../core/keys/key-groups.ts';
import { WeirError } from '../../core/errors.ts';
import { compareKeys } from '../keys/reference-order.ts';

const MAX_PARALLELISM = 128;
const ctx: BackendContext = { uid: 'counter', subtask: 0, maxParallelism: MAX_PARALLELISM, keyGroups: { start: 0, end: 127 } };
const general = serializerFor(undefined);

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-lmdb-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function setKey(backend: LmdbBackend, key: Key): void {
  backend.setCurrentKey({ key, keyGroup: keyGroupOf(key, MAX_PARALLELISM) });
}

type Command =
  | { op: 'put'; map: boolean; key: Key; ns: string; userKey: number; value: string | number }
  | { op: 'remove' | 'get'; map: boolean; key: Key; ns: string; userKey: number }
  | { op: 'entries'; key: Key; ns: string }
  | { op: 'removeAll'; key: Key; ns: string }
  | { op: 'flush' };

// Number keys with number values live in the cache's slab, other pairs in its entries; a key
// moves between them when its value changes kind.
const currentKey = fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom('a', 'b', '', 'a\u0000b', 0.5, -3.25, 2 ** 40));
const stateValue = fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.double().map((v) => v + 0));
const where = { map: fc.boolean(), key: currentKey, ns: fc.constantFrom('', 'w1'), userKey: fc.integer({ min: -5, max: 20 }) };
const command: fc.Arbitrary<Command> = fc.oneof(
  // Values up to 300 chars against a 4 KB cache: a flush or an eviction every few commands.
  { arbitrary: fc.record({ op: fc.constant('put' as const), ...where, value: stateValue }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), ...where }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('get' as const), ...where }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constantFrom('entries' as const, 'removeAll' as const), key: currentKey, ns: where.ns }), weight: 1 },
  { arbitrary: fc.constant({ op: 'flush' as const }), weight: 1 },
);

/** Model keys: which table, current key, namespace, user key (the map table only). */
const modelKey = (map: boolean, key: Key, ns: string, userKey: number) => JSON.stringify([map, key, ns, map ? userKey : null]);

function modelEntries(model: Map<string, string | number>, key: Key, ns: string): [Key, string | number][] {
  const found: [Key, string | number][] = [];
  for (const [k, v] of model) {
    const [map, mk, mns, uk] = JSON.parse(k) as [boolean, Key, string, number];
    if (map && mk === key && mns === ns) found.push([uk, v]);
  }
  return found.sort((a, b) => compareKeys(a[0], b[0]));
}

test('reads see every write through a 4 KB cache across many flushes and evictions, and LMDB holds the result', (t) => {
  let flushes = 0;
  let evictions = 0;
  fc.assert(fc.property(fc.array(command, { minLength: 50, maxLength: 300 }), (commands) => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-lmdb-model-'));
    try {
      const model = new Map<string, string | number>();
      let backend = openLmdbBackend(dir, ctx, { cacheBytes: 4096 });
      const tables = (b: LmdbBackend) => ({ value: b.table('v', general), map: b.table('m', general) });
      let { value, map } = tables(backend);
      for (const c of commands) {
        if (c.op === 'flush') {
          backend.flush();
          continue;
        }
        setKey(backend, c.key);
        if (c.op === 'entries') {
          t.deepEqual([...map.entries(c.ns)], modelEntries(model, c.key, c.ns));
        } else if (c.op === 'removeAll') {
          map.removeAll(c.ns);
          for (const [uk] of modelEntries(model, c.key, c.ns)) model.delete(modelKey(true, c.key, c.ns, uk as number));
        } else {
          const table = c.map ? map : value;
          const userKey = c.map ? c.userKey : undefined;
          const k = modelKey(c.map, c.key, c.ns, c.userKey);
          if (c.op === 'put') {
            table.put(c.ns, userKey, c.value);
            model.set(k, c.value);
          } else if (c.op === 'remove') {
            table.remove(c.ns, userKey);
            model.delete(k);
          } else {
            t.is(table.get(c.ns, userKey), model.get(k));
          }
        }
        t.true(backend.cacheStats().bytes <= 4096);
      }
      const stats = backend.cacheStats();
      flushes += stats.flushes;
      evictions += stats.evictions;
      t.true(stats.peakBytes <= 4096);
      backend.close();
      // A new backend on the same directory starts with an empty cache: everything comes from LMDB.
      backend = openLmdbBackend(dir, ctx, { cacheBytes: 4096 });
      ({ value, map } = tables(backend));
      for (const [k, v] of model) {
        const [isMap, key, ns, uk] = JSON.parse(k) as [boolean, Key, string, number | null];
        setKey(backend, key);
        t.is((isMap ? map : value).get(ns, uk ?? undefined), v);
        if (isMap) t.deepEqual([...map.entries(ns)], modelEntries(model, key, ns));
      }
      backend.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }), { numRuns: 60 });
  t.true(flushes > 100, `${flushes} flushes`);
  t.true(evictions > 100, `${evictions} evictions`);
});

test('a stored key is the key group (u16 big-endian), then the encodings of key, namespace and map key', (t) => {
  const dir = tempDir(t);
  const backend = openLmdbBackend(dir, ctx, { cacheBytes: 1 << 20 });
  setKey(backend, 'user-1');
  backend.table('total', general).put('', undefined, 42);
  backend.table('seen', general).put('w', 7, true);
  backend.close();

  const env = open({ path: dir, maxDbs: 10 });
  t.teardown(() => env.close());
  const group = keyGroupOf('user-1', MAX_PARALLELISM);
  const head = [group >>> 8, group & 0xff, ...encodeKey('user-1')];
  const total = env.openDB('counter/total', { keyEncoding: 'binary', encoding: 'binary' });
  const seen = env.openDB('counter/seen', { keyEncoding: 'binary', encoding: 'binary' });
  t.deepEqual([...total.getKeys()].map((k) => [...(k as Buffer)]), [[...head, ...encodeKey('')]]);
  t.deepEqual([...seen.getKeys()].map((k) => [...(k as Buffer)]), [[...head, ...encodeKey('w'), ...encodeKey(7)]]);
  t.deepEqual(general.deserialize(total.getBinary(Buffer.from([...head, ...encodeKey('')]))!), 42);
});

/** JSON values: garbage bytes make deserialize throw, as a schema mismatch or a torn value would. */
const json: ValueSerializer = {
  descriptor: 'test:json',
  serialize: (v) => new TextEncoder().encode(JSON.stringify(v)),
  deserialize: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
};

test('a value that does not deserialize is a WeirError naming the operator, the state and the key', (t) => {
  const dir = tempDir(t);
  let backend = openLmdbBackend(dir, ctx, { cacheBytes: 1 << 20 });
  setKey(backend, 'user-7');
  backend.table('profile', json).put('', 'email', { ok: true });
  backend.close();

  const env = open({ path: dir, maxDbs: 10 });
  const db = env.openDB('counter/profile', { keyEncoding: 'binary', encoding: 'binary' });
  const [stored] = [...db.getKeys()] as Buffer[];
  env.transactionSync(() => db.putSync(stored!, Buffer.from([0x7b, 0xff, 0x00])));
  void env.close();

  backend = openLmdbBackend(dir, ctx, { cacheBytes: 1 << 20 });
  t.teardown(() => backend.close());
  setKey(backend, 'user-7');
  const profile = backend.table('profile', json);
  for (const read of [() => profile.get('', 'email'), () => [...profile.entries('')]]) {
    const err = t.throws(read, { instanceOf: WeirError });
    t.is(err.uid, 'counter');
    t.regex(err.message, /state 'profile'/);
    t.regex(err.message, /key "user-7", namespace "", map key "email"/);
    t.regex(err.message, /operator 'counter'/);
    t.true(err.cause instanceof SyntaxError);
  }
});

test('a general value the serializer refuses fails the flush, naming the key; fixed, the next flush writes it', (t) => {
  const dir = tempDir(t);
  let backend = openLmdbBackend(dir, ctx, { cacheBytes: 1 << 20 });
  setKey(backend, 3);
  backend.table('fn', general).put('', undefined, 'stored');
  backend.close();
  backend = openLmdbBackend(dir, ctx, { cacheBytes: 1 << 20 }); // nothing cached
  t.teardown(() => backend.close());
  setKey(backend, 3);
  const table = backend.table('fn', general);
  // General values are serialized when flushed (once per flush for a hot key), so the refusal comes then.
  table.put('', undefined, () => 1);
  const err = t.throws(() => backend.flush(), { instanceOf: WeirError });
  t.regex(err.message, /cannot write the value of key group \d+, key 3, namespace ""/);
  table.put('', undefined, 'fixed');
  backend.flush();
  t.is(table.get('', undefined), 'fixed');
});

test('a key group outside the subtask is refused', (t) => {
  const mine = keyGroupRangeForOperator(MAX_PARALLELISM, 2, 0);
  const backend = openLmdbBackend(tempDir(t), { ...ctx, keyGroups: mine }, { cacheBytes: 1 << 20 });
  t.teardown(() => backend.close());
  const err = t.throws(() => backend.setCurrentKey({ key: 'x', keyGroup: mine.end + 1 }), { instanceOf: WeirError });
  t.regex(err.message, /is in key group 64, outside this subtask's range \[0, 63\]/);
  t.throws(() => backend.table('t', general).get('', undefined), { instanceOf: WeirError, message: /no current key/ });
});

test('dirty key groups are the groups written or removed since the last call', (t) => {
  const backend = openLmdbBackend(tempDir(t), ctx, { cacheBytes: 1 << 20 });
  t.teardown(() => backend.close());
  const table = backend.table('t', general);
  const groups = (keys: Key[]) => new Set(keys.map((k) => keyGroupOf(k, MAX_PARALLELISM)));
  for (const k of ['a', 'b', 'c']) {
    setKey(backend, k);
    table.put('', undefined, 1);
  }
  setKey(backend, 'd');
  table.get('', undefined);
  t.deepEqual(backend.takeDirtyKeyGroups(), groups(['a', 'b', 'c']));
  t.deepEqual(backend.takeDirtyKeyGroups(), new Set());
  backend.flush();
  setKey(backend, 'b');
  table.remove('', undefined);
  t.deepEqual(backend.takeDirtyKeyGroups(), groups(['b']));
});

test('a million distinct keys through an 8 MB cache stay within budget and read back', (t) => {
  const backend = openLmdbBackend(tempDir(t), ctx, { cacheBytes: 8 << 20 });
  t.teardown(() => backend.close());
  const table = backend.table('count', general);
  const N = 1_000_000;
  for (let i = 0; i < N; i++) {
    setKey(backend, i);
    table.put('', undefined, i * 2);
  }
  for (let i = 0; i < N; i += 997) {
    setKey(backend, i);
    t.is(table.get('', undefined), i * 2);
  }
  const stats = backend.cacheStats();
  t.true(stats.peakBytes <= 8 << 20, `peak ${stats.peakBytes}`);
  t.true(stats.flushes > 1);
  backend.flush();
  t.is(table.db.getCount(), N);
});

test('a count per number key costs the cache about 40 bytes: a 64 MB cache holds 1.6M of 2M counted keys', (t) => {
  // What README.md and BENCHMARKS.md say of the slab; an entry object per key (150 bytes) held about 400K.
  const backend = openLmdbBackend(tempDir(t), ctx, { cacheBytes: 64 << 20 });
  t.teardown(() => backend.close());
  const table = backend.table('count', general);
  for (let i = 0; i < 2_000_000; i++) {
    setKey(backend, i);
    table.put('', undefined, ((table.get('', undefined) as number | undefined) ?? 0) + 1);
  }
  const stats = backend.cacheStats();
  t.true(stats.entries >= 1_600_000, `${stats.entries} keys held`);
  t.true(stats.peakBytes <= 64 << 20);
  for (const i of [0, 777_777, 1_999_999]) {
    setKey(backend, i);
    t.is(table.get('', undefined), 1, `key ${i}`);
  }
});

test('a flush larger than its value buffer writes every value whole, removals between them', (t) => {
  // Values of 1 B to 200 KB, through a cache large enough to take them all in one flush: the
  // flush's value buffer (64 KB at first) grows several times while values are placed in it.
  const backend = openLmdbBackend(tempDir(t), ctx, { cacheBytes: 256 << 20 });
  t.teardown(() => backend.close());
  const typed = backend.table('typed', serializerFor(Types.STRING));
  const loose = backend.table('loose', general);
  const valueOf = (i: number) => String.fromCharCode(97 + (i % 26)).repeat(i % 3 === 0 ? 200_000 - i : i + 1);
  for (let i = 0; i < 60; i++) {
    setKey(backend, i);
    typed.put('', undefined, valueOf(i));
    loose.put('', undefined, valueOf(i));
  }
  backend.flush();
  for (let i = 0; i < 60; i += 4) {
    setKey(backend, i);
    typed.remove('', undefined);
  }
  for (let i = 1; i < 60; i += 4) {
    setKey(backend, i);
    typed.put('', undefined, `again-${i}`);
  }
  backend.flush();
  t.is(backend.cacheStats().dirtyEntries, 0);
  const stored = (db: typeof typed.db, s: ValueSerializer) => [...db.getRange({})].map((e) => s.deserialize(e.value) as string);
  const want = [...Array(60).keys()].filter((i) => i % 4 !== 0)
    .map((i) => (i % 4 === 1 ? `again-${i}` : valueOf(i)));
  t.deepEqual(stored(typed.db, serializerFor(Types.STRING)).sort(), want.sort());
  t.deepEqual(stored(loose.db, general).sort(), [...Array(60).keys()].map(valueOf).sort());
});
