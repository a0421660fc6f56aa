// Value state get+update throughput on the LMDB backend over 1M keys, uniform and Zipf(1.0), beside a plain JS Map.
//
// Expect: the backend far behind the Map, which is the ceiling. Under Zipf most operations hit
// the write cache (a Map lookup, a value encode and a dirty mark) and misses cost an LMDB
// read: a few hundred thousand ops/s, 15-30x below the Map. Uniform keys over 1M miss a 64 MB
// cache about 70% of the time and every update dirties a new entry, so LMDB reads and the
// sorted flushes bound it: around 0.1M ops/s, 30-50x below the Map.
// Run: npm exec -- node native-bench/state-explore.ts

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Types } from '../core/codec/types.ts';
import { keyGroupOf } from '../core/keys/key-groups.ts';
import type { ValueSerializer } from '../core/state/backend.ts';
import { openLmdbBackend } from '../core/state/lmdb-backend.ts';
import { serializerFor } from '../core/state/serializers.ts';

const KEYS = 1_000_000;
const OPS = 2_000_000;
const CACHE_BYTES = 64 << 20;
const MAX_PARALLELISM = 128;
const ROUNDS = 3;

/** Deterministic, so every run sees the same key sequences. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function uniform(next: () => number): Int32Array {
  return Int32Array.from({ length: OPS }, () => Math.floor(next() * KEYS));
}

/** Zipf(s = 1) over the ranks, ranks shuffled onto keys so that hot keys are spread over key groups. */
function zipf(next: () => number): Int32Array {
  const cdf = new Float64Array(KEYS);
  let sum = 0;
  for (let r = 0; r < KEYS; r++) cdf[r] = sum += 1 / (r + 1);
  const keyOfRank = Int32Array.from({ length: KEYS }, (_, i) => i);
  for (let i = KEYS - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [keyOfRank[i], keyOfRank[j]] = [keyOfRank[j]!, keyOfRank[i]!];
  }
  return Int32Array.from({ length: OPS }, () => {
    const u = next() * sum;
    let lo = 0;
    let hi = KEYS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return keyOfRank[lo]!;
  });
}

const groups = Int32Array.from({ length: KEYS }, (_, k) => keyGroupOf(k, MAX_PARALLELISM));

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

function mapRate(ops: Int32Array): number {
  const map = new Map<number, number>();
  for (let k = 0; k < KEYS; k++) map.set(k, 0);
  const start = performance.now();
  for (let i = 0; i < OPS; i++) {
    const k = ops[i]!;
    map.set(k, map.get(k)! + 1);
  }
  return OPS / (performance.now() - start) / 1e3;
}

function lmdbRate(ops: Int32Array, serializer: ValueSerializer): { rate: number; line: string } {
  const dir = mkdtempSync(join(tmpdir(), 'weir-state-explore-'));
  const backend = openLmdbBackend(dir, { uid: 'bench', subtask: 0, maxParallelism: MAX_PARALLELISM, keyGroups: { start: 0, end: 127 } }, {
    cacheBytes: CACHE_BYTES,
  });
  const table = backend.table('count', serializer);
  for (let k = 0; k < KEYS; k++) {
    backend.setCurrentKey({ key: k, keyGroup: groups[k]! });
    table.put('', undefined, 0);
  }
  backend.flush();
  const before = backend.cacheStats();
  const start = performance.now();
  for (let i = 0; i < OPS; i++) {
    const k = ops[i]!;
    backend.setCurrentKey({ key: k, keyGroup: groups[k]! });
    table.put('', undefined, (table.get('', undefined) as number) + 1);
  }
  backend.flush();
  const rate = OPS / (performance.now() - start) / 1e3;
  const after = backend.cacheStats();
  const misses = after.misses - before.misses;
  const hits = after.hits - before.hits;
  backend.close();
  rmSync(dir, { recursive: true, force: true });
  const line = `hit ${((100 * hits) / (hits + misses)).toFixed(1)}%, ${after.flushes - before.flushes} flushes, ${after.entries} entries cached`;
  return { rate, line };
}

const next = random(42);
const workloads = { uniform: uniform(next), 'zipf(1.0)': zipf(next) };
const serializers = { general: serializerFor(undefined), float64: serializerFor(Types.FLOAT64) };
console.log(`Value get+update, ${KEYS / 1e6}M keys, ${OPS / 1e6}M ops, cache ${CACHE_BYTES >> 20} MB, median of ${ROUNDS}`);
for (const [name, ops] of Object.entries(workloads)) {
  const map = median(Array.from({ length: ROUNDS }, () => mapRate(ops)));
  console.log(`${name.padEnd(10)} JS Map<number, number>         ${map.toFixed(2).padStart(7)} M ops/s`);
  for (const [codec, serializer] of Object.entries(serializers)) {
    const runs = Array.from({ length: ROUNDS }, () => lmdbRate(ops, serializer));
    const rate = median(runs.map((r) => r.rate));
    console.log(`${name.padEnd(10)} LMDB backend, ${codec.padEnd(8)} codec ${rate.toFixed(2).padStart(7)} M ops/s  (${(map / rate).toFixed(0)}x slower than the Map; ${runs[0]!.line})`);
  }
}
