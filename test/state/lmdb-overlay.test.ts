// LMDB checkpoints as a copy of the environment plus the write-back cache's dirty entries over it (the overlay):
// every checkpoint, restored into LMDB or the heap, holds exactly the state as of its snapshot.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import type { BackendContext, BackendSnapshot, KeyedStateBackend, StateTable } from '../../core/state/backend.ts';
import { openLmdbBackend, readEnvironmentCopy } from '../../core/state/lmdb-backend.ts';
import { HeapBackend } from '../../core/state/heap-backend.ts';
import { setEnvironmentReader } from '../../core/state/canonical.ts';
import { serializerFor } from '../../core/state/serializers.ts';
import type { Key } from '../../core/keys/encoding.ts';
import { keyGroupOf } from '../../core/keys/key-groups.ts';

const MAX_PARALLELISM = 128;
const ctx: BackendContext = { uid: 'counter', subtask: 0, maxParallelism: MAX_PARALLELISM, keyGroups: { start: 0, end: 127 } };
const general = serializerFor(undefined);

type Command =
  | { op: 'put'; map: boolean; key: Key; userKey: number; value: string | number }
  | { op: 'remove'; map: boolean; key: Key; userKey: number }
  | { op: 'flush' }
  | { op: 'checkpoint' };

// Number keys with number values go to the cache's slab, the rest to its entries; strings up to
// 200 chars against a 4 KB cache flush or evict every few commands on their own.
const currentKey = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom('a', 'b', '', 0.5, -3.25, 2 ** 40));
const value = fc.oneof(fc.string({ maxLength: 200 }), fc.integer(), fc.double({ noNaN: true }).map((v) => v + 0));
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('put' as const), map: fc.boolean(), key: currentKey, userKey: fc.integer({ min: 0, max: 5 }), value }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), map: fc.boolean(), key: currentKey, userKey: fc.integer({ min: 0, max: 5 }) }), weight: 2 },
  { arbitrary: fc.constant({ op: 'flush' as const }), weight: 1 },
  // Two in a row often: nothing committed in between, so the second links the first's copy.
  { arbitrary: fc.constant({ op: 'checkpoint' as const }), weight: 2 },
);

const modelKey = (map: boolean, key: Key, userKey: number) => JSON.stringify([map, key, map ? userKey : null]);

function read(backend: KeyedStateBackend, tables: { v: StateTable; m: StateTable }, k: string): unknown {
  const [map, key, userKey] = JSON.parse(k) as [boolean, Key, number | null];
  backend.setCurrentKey({ key, keyGroup: keyGroupOf(key, MAX_PARALLELISM) });
  return (map ? tables.m : tables.v).get('', userKey ?? undefined);
}

test('every checkpoint, restored into LMDB and into the heap, holds its snapshot\'s state: copied or linked environment, overlay over it', async (t) => {
  t.timeout(240_000);
  setEnvironmentReader(readEnvironmentCopy);
  let linked = 0;
  let overlaid = 0;
  let flushedBetween = 0;
  await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 20, maxLength: 200 }), async (commands) => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-lmdb-overlay-'));
    try {
      const backend = openLmdbBackend(join(dir, 'env'), ctx, { cacheBytes: 4096 });
      const tables = { v: backend.table('v', general), m: backend.table('m', general) };
      const model = new Map<string, string | number>();
      const universe = new Set<string>();
      const taken: { snapshot: BackendSnapshot; stateDir: string; model: Map<string, string | number>; flushes: number }[] = [];
      const pending: Promise<unknown>[] = [];
      for (const c of commands) {
        if (c.op === 'flush') {
          backend.flush();
        } else if (c.op === 'checkpoint') {
          // One checkpoint at a time, as the coordinator triggers them: the last one's copy is done.
          await Promise.all(pending);
          const stateDir = join(dir, `chk-${taken.length + 1}`);
          const snapshot = backend.snapshot({ prefix: join(stateDir, 'counter-0'), defer: (_file, done) => { pending.push(done); } });
          taken.push({ snapshot, stateDir, model: new Map(model), flushes: backend.cacheStats().flushes });
          // The copy runs on a libuv thread while the job goes on: writes keep coming meanwhile.
        } else {
          backend.setCurrentKey({ key: c.key, keyGroup: keyGroupOf(c.key, MAX_PARALLELISM) });
          const k = modelKey(c.map, c.key, c.userKey);
          universe.add(k);
          const table = c.map ? tables.m : tables.v;
          if (c.op === 'put') {
            table.put('', c.map ? c.userKey : undefined, c.value);
            model.set(k, c.value);
          } else {
            table.remove('', c.map ? c.userKey : undefined);
            model.delete(k);
          }
        }
      }
      await Promise.all(pending);
      for (let i = 0; i < taken.length; i++) {
        const { snapshot, stateDir, model: want } = taken[i]!;
        if (snapshot.kind !== 'lmdb-env') throw new Error(`a checkpoint's snapshot is ${snapshot.kind}`);
        const file = join(stateDir, snapshot.file);
        const resolved = { ...snapshot, file };
        if (statSync(file).nlink > 1) linked++;
        if (Object.values(snapshot.overlay ?? {}).some((o) => o.puts.length + o.removals.length > 0)) overlaid++;
        if (i > 0 && taken[i]!.flushes > taken[i - 1]!.flushes) flushedBetween++;
        const lmdb = openLmdbBackend(join(dir, `restored-${i}`), ctx, { cacheBytes: 4096 });
        lmdb.restore(resolved);
        const heap = new HeapBackend(ctx);
        heap.restore(resolved);
        for (const [name, b] of [['lmdb', lmdb], ['heap', heap]] as const) {
          const bt = { v: b.table('v', general), m: b.table('m', general) };
          for (const k of universe) {
            if (read(b, bt, k) !== want.get(k)) {
              t.fail(`checkpoint ${i + 1} restored into ${name}: ${k} is ${String(read(b, bt, k))}, was ${String(want.get(k))} (dir ${dirname(file)})`);
              return false;
            }
          }
        }
        lmdb.close();
        heap.close();
      }
      backend.close();
      return true;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }), { numRuns: 30 });
  // The property ran through each way a checkpoint is made.
  t.true(linked > 5, `${linked} checkpoints linked their environment`);
  t.true(overlaid > 20, `${overlaid} checkpoints carried an overlay`);
  t.true(flushedBetween > 5, `${flushedBetween} checkpoints came after a flush since the one before`);
});

test('a checkpoint flushes instead where most dirty entries are ones the last checkpoint already took unchanged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-lmdb-overlay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const backend = openLmdbBackend(join(dir, 'env'), ctx, { cacheBytes: 1 << 24 });
  const counts = backend.table('count', general);
  const words = backend.table('word', general);
  const write = (keys: number) => {
    for (let k = 0; k < keys; k++) {
      backend.setCurrentKey({ key: k, keyGroup: keyGroupOf(k, MAX_PARALLELISM) });
      counts.put('', undefined, k + 0.5); // a number value of a number key: the slab
      words.put('', undefined, `w${k}`); // the general entries
    }
  };
  let n = 0;
  const checkpoint = async () => {
    const pending: Promise<unknown>[] = [];
    const s = backend.snapshot({ prefix: join(dir, `chk-${++n}`, 'counter-0'), defer: (_f, done) => { pending.push(done); } });
    await Promise.all(pending);
    if (s.kind !== 'lmdb-env') throw new Error(s.kind);
    const o = s.overlay!;
    return { flushes: backend.cacheStats().flushes, numbers: o['count']?.numbers?.keys.length ?? 0, pairs: o['word']?.puts.length ?? 0 };
  };
  write(100);
  t.like(await checkpoint(), { flushes: 0, numbers: 100 }, 'all fresh: the overlay, no flush');
  write(80);
  t.like(await checkpoint(), { flushes: 0, numbers: 100 }, '80 of 100 rewritten: the overlay again, every dirty entry in it');
  write(10);
  const third = await checkpoint();
  t.like(third, { flushes: 1, numbers: 0, pairs: 0 }, '90 of 100 unchanged since the last checkpoint: flushed, an empty overlay');
  write(5);
  t.like(await checkpoint(), { flushes: 1, numbers: 5 }, 'after the flush only what was written since is dirty');
  backend.close();
});
