// The State Processor API in small: read a savepoint's or retained checkpoint's state without running the job.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { WeirError } from '../errors.ts';
import { encodeKey } from '../keys/encoding.ts';
import type { Key } from '../keys/encoding.ts';
import { compareBytes } from '../state/bytes.ts';
import type { BackendSnapshot } from '../state/backend.ts';
import { decodeTable, lmdbPairsToCanonical } from '../state/canonical.ts';
import type { CanonicalTables } from '../state/canonical.ts';
import { heapToCanonical } from '../state/heap-backend.ts';
import type { OperatorStateSnapshot } from '../state/operator-state.ts';
import { readSavepointDir } from './storage.ts';
import type { CheckpointMetadata } from './storage.ts';
import { v8 } from '../lazy-builtins.ts';
import type { SavepointLocation } from '../options.ts';

/** A subtask's state file as a checkpoint holds it (actors/runtime/subtask.ts writes it). */
export interface StoredSubtaskState {
  readonly operators: Record<string, unknown>;
  readonly finished?: boolean;
  readonly operatorState?: Record<string, OperatorStateSnapshot>;
  readonly descriptors: Record<string, readonly { readonly name: string; readonly signature: string }[]>;
}

/**
 * Reads a subtask's state file: v8-serialized plain data (no code runs, and no object gets a
 * prototype other than the built-in ones). Files it names (a copied LMDB environment) are
 * relative to its directory, so a moved directory reads from where it is now.
 */
export function readSubtaskState(file: string): StoredSubtaskState {
  let state: StoredSubtaskState;
  try {
    state = v8().deserialize(readFileSync(file)) as StoredSubtaskState;
  } catch (err) {
    throw new WeirError(`cannot read checkpoint state file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof state !== 'object' || state === null || typeof state.operators !== 'object' || state.operators === null) {
    throw new WeirError(`checkpoint state file ${file} does not hold a subtask's state`);
  }
  for (const s of Object.values(state.operators)) {
    const backend = (s as { state?: { kind?: unknown; file?: unknown } } | null)?.state;
    if (backend?.kind === 'lmdb-env' && typeof backend.file === 'string' && !isAbsolute(backend.file)) {
      if (backend.file.split(/[\\/]/).includes('..')) throw new WeirError(`checkpoint state file ${file} names a file outside its directory: ${backend.file}`);
      (backend as { file: string }).file = join(dirname(file), backend.file);
    }
  }
  return state;
}

export interface SavepointReader {
  readonly id: number;
  readonly kind: 'checkpoint' | 'savepoint';
  readonly path: string;
  readonly metadata: CheckpointMetadata;
  /** Operator uids with state in it. */
  readonly operators: readonly string[];
  /**
   * Every (key, value) of keyed state `stateName` of operator `uid`, over all subtasks, in key
   * group order. MapState yields (key, Map of user key to value); TTL values come unwrapped.
   * Async because a retained LMDB checkpoint is read through the LMDB module, loaded on demand.
   */
  keyedState<K = Key, V = unknown>(uid: string, stateName: string): AsyncIterableIterator<[K, V]>;
  /** The items of operator list `name` of `uid`, over all subtasks in subtask order. */
  operatorState<T = unknown>(uid: string, name: string): T[];
  /** What operator `uid` returned from snapshotState, per subtask (source positions, ...). */
  operatorSnapshots(uid: string): unknown[];
}

/** Opens a savepoint or retained checkpoint directory, verifying every file's checksum first. */
export function readSavepoint(location: SavepointLocation): SavepointReader {
  const path = typeof location === 'object' && location !== null ? location.path : location;
  if (typeof path !== 'string' || path === '') {
    throw new WeirError(`readSavepoint needs a savepoint's directory, or what job.savepoint() resolved with; got ${JSON.stringify(location)}`);
  }
  const cp = readSavepointDir(path);
  const m = cp.metadata;
  const keys = Object.keys(cp.files).filter((k) => !k.includes('/')).sort((a, b) => {
    const [ta, sa] = a.split('-').map(Number) as [number, number];
    const [tb, sb] = b.split('-').map(Number) as [number, number];
    return ta - tb || sa - sb;
  });
  const states = new Map<string, StoredSubtaskState>();
  const stateOf = (k: string) => {
    let s = states.get(k);
    if (s === undefined) states.set(k, (s = readSubtaskState(cp.files[k]!)));
    return s;
  };
  const maxParallelismOf = (uid: string): number => {
    const t = Object.values(m.tasks ?? {}).find((x) => x.uids.includes(uid));
    return t?.maxParallelism ?? Math.max(...Object.values(m.maxParallelism));
  };
  const where = `${m.kind ?? 'checkpoint'} ${m.id} (${cp.path})`;
  const known = (uid: string) => {
    if (!(m.stateful ?? Object.keys(m.state)).includes(uid) && m.state[uid] === undefined) {
      throw new WeirError(`${where} holds no state of operator '${uid}' (it has: ${[...new Set([...(m.stateful ?? []), ...Object.keys(m.state)])].join(', ')})`);
    }
  };
  return {
    id: m.id, kind: m.kind ?? 'checkpoint', path: cp.path, metadata: m,
    operators: [...new Set([...(m.stateful ?? []), ...Object.keys(m.state)])].sort(),
    async *keyedState<K, V>(uid: string, stateName: string): AsyncIterableIterator<[K, V]> {
      known(uid);
      const signature = m.state[uid]?.find((d) => d.name === stateName)?.signature;
      if (signature === undefined) throw new WeirError(`operator '${uid}' has no keyed state '${stateName}' in ${where}`);
      const isMap = signature.startsWith('map<');
      const ttl = / ttl=\d+/.test(signature);
      const maxParallelism = maxParallelismOf(uid);
      for (const k of keys) {
        const snap = (stateOf(k).operators[uid] as { state?: BackendSnapshot } | undefined)?.state;
        if (snap === undefined) continue;
        const tables = await canonicalOf(snap, uid, maxParallelism, `${where}, subtask ${k}`);
        const table = tables[stateName];
        if (table === undefined) continue;
        let current: { key: Key; map: Map<unknown, unknown> } | null = null;
        for (const e of decodeTable(table, { start: 0, end: maxParallelism - 1 }, `${where}, subtask ${k}, state '${stateName}'`)) {
          if (e.namespace !== '') continue;
          const value = ttl ? (e.value as [number, unknown])[1] : e.value;
          if (!isMap) { yield [e.key as K, value as V]; continue; }
          if (current !== null && !sameKey(current.key, e.key)) { yield [current.key as K, current.map as V]; current = null; }
          current ??= { key: e.key, map: new Map() };
          current.map.set(e.userKey, value);
        }
        if (current !== null) yield [current.key as K, current.map as V];
      }
    },
    operatorState<T>(uid: string, name: string): T[] {
      known(uid);
      return keys.flatMap((k) => (stateOf(k).operatorState?.[uid]?.[name]?.items ?? []) as T[]);
    },
    operatorSnapshots(uid: string): unknown[] {
      known(uid);
      return keys.map((k) => stateOf(k).operators[uid]).filter((s) => s !== undefined);
    },
  };
}

function sameKey(a: Key, b: Key): boolean {
  return compareBytes(encodeKey(a), encodeKey(b)) === 0;
}

/** Any backend's snapshot of one operator subtask, as canonical tables. */
export async function canonicalOf(snap: BackendSnapshot, uid: string, maxParallelism: number, where: string): Promise<CanonicalTables> {
  switch (snap.kind) {
    case 'canonical': return snap.tables;
    case 'heap': return heapToCanonical(snap, { uid, subtask: 0, maxParallelism, keyGroups: { start: 0, end: maxParallelism - 1 } });
    case 'lmdb': return lmdbPairsToCanonical(snap.tables, snap.descriptors, where);
    case 'lmdb-env': {
      const { readEnvironmentCopy } = await import('../state/lmdb-backend.ts');
      return readEnvironmentCopy(snap.file, uid, snap.tables, snap.descriptors, snap.overlay);
    }
  }
}
