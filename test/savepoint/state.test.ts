// Reading a savepoint without running the job (readSavepoint, weir inspect), the canonical form across backends,
// operator-state redistribution, and what a restore refuses: a changed state type, prototype tricks in a file.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { HeapBackend, readSavepoint, submit } from '../../core/index.ts';
import { readSubtaskState } from '../../core/checkpoint/read-savepoint.ts';
import { openLmdbBackend } from '../../core/state/lmdb-backend.ts';
import { redistributeLists } from '../../core/state/operator-state.ts';
import { serializerFor, ttlSerializer } from '../../core/state/serializers.ts';
import { Types } from '../../core/codec/types.ts';
import { keyGroupOf } from '../../core/keys/key-groups.ts';
import type { KeyedStateBackend } from '../../core/state/backend.ts';
import { cli, root, runCli } from '../helpers/cli.ts';
import { KEYS, N, untilEmitted } from '../helpers/rescale-rows.ts';

const job = (q: string) => new URL(`../fixtures/jobs/rescale.ts?n=${N}&keys=${KEYS}&${q}`, import.meta.url);
const tmp = () => mkdtempSync(join(tmpdir(), 'weir-spstate-'));


/** A savepoint (or, with `checkpoint`, a retained checkpoint) of the rescale job halfway, at parallelism 2. */
async function halfway(stateBackend: 'heap' | 'lmdb', checkpoint = false): Promise<string> {
  return (await halfwayStats(stateBackend, checkpoint)).path;
}

/** The same, as what savepoint() or triggerCheckpoint() resolved with. */
async function halfwayStats(stateBackend: 'heap' | 'lmdb', checkpoint = false) {
  const dir = tmp();
  const first = await submit(job(`hold=${join(dir, 'hold')}`), { parallelism: 2, stateBackend, checkpointInterval: 60_000, checkpointDir: join(dir, 'ck') });
  await untilEmitted(first, N / 2);
  const s = checkpoint ? await first.triggerCheckpoint() : await first.savepoint(join(dir, 'sp'));
  await first.cancel();
  return s;
}

test('readSavepoint takes what savepoint() resolved with as its path, and names a bad location', async (t) => {
  const stats = await halfwayStats('heap');
  // It reads as its path where a string is made of it, and stays plain data (JSON, structured clone).
  t.is(`${stats}`, stats.path);
  t.false(Object.keys(stats).includes('toString'));
  t.is(structuredClone(stats).path, stats.path);
  t.deepEqual(readSavepoint(stats).operators, readSavepoint(stats.path).operators);
  t.is(readSavepoint(stats).path, stats.path);
  t.throws(() => readSavepoint({ path: undefined } as never), { message: /readSavepoint needs a savepoint's directory, or what job.savepoint\(\) resolved with; got \{\}/ });
});

for (const [backend, checkpoint] of [['heap', false], ['lmdb', false], ['heap', true], ['lmdb', true]] as const) {
  test(`readSavepoint(${backend} ${checkpoint ? 'retained checkpoint' : 'savepoint'}).keyedState iterates every key's value, MapState as a Map`, async (t) => {
    const sp = readSavepoint(await halfway(backend, checkpoint));
    t.is(sp.kind, checkpoint ? 'checkpoint' : 'savepoint');
    t.deepEqual([...sp.operators], ['count', 'numbers'], 'collect() holds no state');
    const counts = new Map<number, number>();
    for await (const [key, value] of sp.keyedState<number, number>('count', 'count')) counts.set(key, value);
    t.is(counts.size, KEYS);
    t.true([...counts.values()].every((c) => c === N / 2 / KEYS), 'the first half of each key, all of it');
    let maps = 0;
    for await (const [key, m] of sp.keyedState<number, Map<number, number>>('count', 'by-residue')) {
      maps++;
      t.is([...m.values()].reduce((a, b) => a + b, 0), counts.get(key) ?? -1);
      t.true([...m.keys()].every((r) => r >= 0 && r < 7));
    }
    t.is(maps, KEYS);
    // The splits' positions: the six of the first half are done, the six of the second not begun (they hold).
    const splits = sp.operatorSnapshots('numbers').flatMap((s) => (s as { splits: { from: number; to: number; next: number }[] }).splits);
    t.deepEqual(splits.map((s) => s.from).sort((a, b) => a - b), [2000, 2333, 2666, 3000, 3333, 3666]);
    t.true(splits.every((s) => s.next === s.from));
    const e = await t.throwsAsync(async () => { for await (const _ of sp.keyedState('count', 'nope')); });
    t.regex(e!.message, /operator 'count' has no keyed state 'nope'/);
    t.throws(() => sp.operatorState('missing', 'x'), { message: /holds no state of operator 'missing'/ });
  });
}

test('weir inspect <savepoint> names the kind, the layout and the canonical state per operator', async (t) => {
  const path = await halfway('lmdb');
  const r = await runCli(['inspect', path], root, process.execPath, cli);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^savepoint \d+ of /m);
  t.regex(r.stdout, /state backend lmdb/);
  t.regex(r.stdout, /task \d+: parallelism 2, maxParallelism 128: count > out/);
  t.regex(r.stdout, /count: keyed state \(canonical, any backend\) count: \d+ entries in \d+ key group\(s\)/);
});

test('a restore into a job whose state changed type is refused, naming the operator and the state', async (t) => {
  const path = await halfway('heap');
  const h = await submit(job('typed=1'), { parallelism: 2, checkpointInterval: 50, fromSavepoint: path, restartStrategy: 'fixed-delay', restartAttempts: 3, restartDelay: 0 });
  const e = await t.throwsAsync(h.done);
  t.regex(e!.message, /state 'count' was checkpointed with serializer general:\S+ and is now declared with schema:int32: a state whose type changed cannot be restored/);
  t.regex(e!.message, /operator 'count'/);
  t.notRegex(e!.message, /restart/, 'refused at once: a restart cannot help');
  // A checkpoint triggered before the refusal is listed as failed with it; none completed.
  t.deepEqual(h.checkpoints().filter((c) => c.status !== 'failed'), []);
});

test('a state file with __proto__ keys restores as plain data: no prototype is touched', async (t) => {
  const dir = tmp();
  const file = join(dir, '0-0.state');
  const evil = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}') as object;
  writeFileSync(file, serialize({ operators: { x: evil, __proto__x: 1 }, descriptors: {}, operatorState: JSON.parse('{"__proto__": {"polluted": "yes"}}') }));
  const s = readSubtaskState(file);
  t.is(({} as { polluted?: string }).polluted, undefined);
  t.is(Object.getPrototypeOf(s.operators['x']), Object.prototype);
  t.deepEqual(Object.keys(s.operators['x'] as object), ['__proto__', 'constructor']);
});

test('operator lists on a rescale: even-split deals all items in contiguous shares, union gives all, broadcast old k mod p', (t) => {
  const old = [0, 1].map((j) => ({
    subtask: j, parallelism: 2,
    lists: {
      even: { redistribution: 'even-split' as const, items: j === 0 ? ['a', 'b', 'c'] : ['d', 'e'] },
      all: { redistribution: 'union' as const, items: [`u${j}`] },
      rule: { redistribution: 'broadcast' as const, items: [`b${j}`] },
    },
  }));
  const at3 = [0, 1, 2].map((k) => redistributeLists(old, k, 3));
  t.deepEqual(at3.map((l) => l['even']!.items), [['a'], ['b', 'c'], ['d', 'e']]);
  t.deepEqual(at3.flatMap((l) => l['even']!.items), ['a', 'b', 'c', 'd', 'e'], 'every item once');
  t.true(at3.every((l) => l['all']!.items.join() === 'u0,u1'));
  t.deepEqual(at3.map((l) => l['rule']!.items), [['b0'], ['b1'], ['b0']]);
  const at1 = redistributeLists(old, 0, 1);
  t.deepEqual(at1['even']!.items, ['a', 'b', 'c', 'd', 'e']);
});

test('the canonical form carries Value, Map, TTL and namespaced entries from heap to lmdb and back unchanged', (t) => {
  const maxParallelism = 8;
  const ctx = { uid: 'op', subtask: 0, maxParallelism, keyGroups: { start: 0, end: maxParallelism - 1 } };
  const typed = serializerFor(Types.TUPLE(Types.INT32, Types.FLOAT64));
  const general = serializerFor(undefined);
  const withTtl = ttlSerializer(general);
  const write = (b: KeyedStateBackend) => {
    const v = b.table('v', typed);
    const m = b.table('m', general);
    const ttl = b.table('ttl', withTtl);
    for (const key of [1, 'two', [3, 'x'], 4n, true] as const) {
      b.setCurrentKey({ key, keyGroup: keyGroupOf(key, maxParallelism) });
      v.put('', undefined, [7, 0.5]);
      v.put('window-1', undefined, [8, 1.5]);
      m.put('', 'k', { deep: [1, 2] });
      m.put('', 42, null);
      ttl.put('', undefined, [1234, 'kept']);
    }
  };
  const read = (b: KeyedStateBackend) => {
    const out: unknown[] = [];
    for (const key of [1, 'two', [3, 'x'], 4n, true] as const) {
      b.setCurrentKey({ key, keyGroup: keyGroupOf(key, maxParallelism) });
      out.push([key, b.table('v', typed).get('', undefined), b.table('v', typed).get('window-1', undefined),
        [...b.table('m', general).entries('')], b.table('ttl', withTtl).get('', undefined)]);
    }
    return out;
  };
  const heap = new HeapBackend(ctx);
  write(heap);
  const expected = read(heap);
  const lmdb = openLmdbBackend(join(tmp(), 'env'), ctx, { cacheBytes: 1 << 20 });
  lmdb.restore(heap.snapshot(undefined, true));
  t.deepEqual(read(lmdb), expected, 'heap -> lmdb');
  const back = new HeapBackend(ctx);
  back.restore(lmdb.snapshot(undefined, true));
  t.deepEqual(read(back), expected, 'lmdb -> heap');
  const fromHeapCheckpoint = openLmdbBackend(join(tmp(), 'env2'), ctx, { cacheBytes: 1 << 20 });
  fromHeapCheckpoint.restore(heap.snapshot());
  t.deepEqual(read(fromHeapCheckpoint), expected, 'a heap checkpoint (not canonical) into lmdb');
  lmdb.close();
  fromHeapCheckpoint.close();
});
