// State operations run in-process, as a keyed operator runs them: a backend, a KeyedStateStore, the current key set per operation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeapBackend, keyGroupOf, keyGroupRangeForOperator, ListStateDescriptor, ManualClock, MapStateDescriptor, ValueStateDescriptor } from '../../core/index.ts';
import type { KeyedStateBackend } from '../../core/index.ts';
import type { CacheStats } from '../../core/state/write-cache.ts';
import { KeyedStateStore } from '../../core/state/keyed-state.ts';
import { openLmdbBackend } from '../../core/state/lmdb-backend.ts';
import { uniformKey } from './keys.ts';

const MAX_PARALLELISM = 128;
/** Map entries per key for MapState: user keys 0..MAP_KEYS-1. */
export const MAP_KEYS = 4;

export interface Config {
  readonly label: string;
  readonly kind: 'heap' | 'lmdb';
  readonly cacheBytes?: number;
}

/** The keys of `ops` operations, drawn uniformly from `keys`, with their key groups computed once. */
export class Draws {
  readonly keys: Int32Array;
  readonly groups: Int32Array;
  readonly userKeys: Int32Array;

  constructor(ops: number, keys: number, seed: number) {
    this.keys = Int32Array.from({ length: ops }, (_, i) => uniformKey(i, keys, seed));
    this.userKeys = Int32Array.from({ length: ops }, (_, i) => uniformKey(i, MAP_KEYS, seed + 1));
    const groupOf = Int32Array.from({ length: keys }, (_, k) => keyGroupOf(k, MAX_PARALLELISM));
    this.groups = this.keys.map((k) => groupOf[k]!);
  }
}

/** One operation kind on one backend: `run(from, to)` applies draws from..to-1. */
export interface Op {
  run(from: number, to: number): void;
  cacheStats(): CacheStats | undefined;
  close(): void;
}

type OpKind = 'value' | 'list' | 'map-put' | 'map-get';

/**
 * A fresh backend and store for one kind of operation over `keys` keys. Value and MapState
 * start with every key (and every map key) written and flushed, so reads find values; lists
 * start empty and grow, the same for every backend since each runs the same operations.
 */
export function openOp(config: Config, kind: OpKind, keys: number, draws: Draws): Op {
  const ctx = { uid: 'bench', subtask: 0, maxParallelism: MAX_PARALLELISM, keyGroups: keyGroupRangeForOperator(MAX_PARALLELISM, 1, 0) };
  const dir = config.kind === 'lmdb' ? mkdtempSync(join(tmpdir(), 'weir-state-bench-')) : undefined;
  const lmdb = dir === undefined ? undefined : openLmdbBackend(dir, ctx, { cacheBytes: config.cacheBytes! });
  const backend: KeyedStateBackend = lmdb ?? new HeapBackend(ctx);
  const store = new KeyedStateStore(backend, new ManualClock(0), 'bench');
  const { keys: ks, groups, userKeys } = draws;
  const setKey = (i: number) => backend.setCurrentKey({ key: ks[i]!, keyGroup: groups[i]! });
  const forEveryKey = (f: () => void) => {
    for (let k = 0; k < keys; k++) {
      backend.setCurrentKey({ key: k, keyGroup: keyGroupOf(k, MAX_PARALLELISM) });
      f();
    }
    backend.flush();
  };

  let run: (from: number, to: number) => void;
  if (kind === 'value') {
    const count = store.getState(new ValueStateDescriptor<number>('count', 0));
    forEveryKey(() => count.update(1));
    run = (from, to) => {
      for (let i = from; i < to; i++) {
        setKey(i);
        count.update(count.value() + 1);
      }
    };
  } else if (kind === 'list') {
    const list = store.getState(new ListStateDescriptor<number>('list'));
    run = (from, to) => {
      for (let i = from; i < to; i++) {
        setKey(i);
        list.add(i);
      }
    };
  } else {
    const map = store.getState(new MapStateDescriptor<number, number>('map'));
    forEveryKey(() => { for (let u = 0; u < MAP_KEYS; u++) map.put(u, u); });
    run = kind === 'map-put'
      ? (from, to) => {
        for (let i = from; i < to; i++) {
          setKey(i);
          map.put(userKeys[i]!, i);
        }
      }
      : (from, to) => {
        for (let i = from; i < to; i++) {
          setKey(i);
          if (map.get(userKeys[i]!) === undefined) throw new Error(`MapState lost key ${ks[i]}/${userKeys[i]}`);
        }
      };
  }
  return {
    run,
    cacheStats: () => lmdb?.cacheStats(),
    close() {
      backend.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
