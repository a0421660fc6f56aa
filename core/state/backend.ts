// The keyed state backend interface: tables of (current key, namespace, user key) -> value, per key-group range.
import type { Key } from '../keys/encoding.ts';
import type { KeyGroupRange } from '../keys/key-groups.ts';

/**
 * Key groups are the unit of keyed state. A subtask owns the contiguous key-group range
 * that Flink's formulas give it (keyGroupRangeForOperator) and every piece of its keyed
 * state lives under one of those groups, so snapshot, restore and rescale move whole
 * groups. The runtime sets the current key (and its group) before each call into user
 * code; state handles read and write under it.
 */
export interface CurrentKey {
  readonly key: Key;
  readonly keyGroup: number;
}

export interface BackendContext {
  /** Operator uid: names the tables and every error. */
  readonly uid: string;
  readonly subtask: number;
  readonly maxParallelism: number;
  readonly keyGroups: KeyGroupRange;
}

/** How a table's values are stored: the general codec, or a declared schema codec. */
export interface ValueSerializer {
  readonly descriptor: string;
  serialize(value: unknown): Uint8Array;
  /** The same bytes as serialize, as a view valid only until the next call: for a caller that copies them at once. */
  serializeView?(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

/**
 * One table per (operator uid, state name). All calls are relative to the backend's
 * current key. `userKey` is undefined for Value/List/Reducing/Aggregating state and the
 * map key for MapState. Values are immutable once written: `put` replaces, so a snapshot
 * may keep references instead of copying.
 */
export interface StateTable {
  readonly name: string;
  get(namespace: string, userKey: Key | undefined): unknown;
  put(namespace: string, userKey: Key | undefined, value: unknown): void;
  remove(namespace: string, userKey: Key | undefined): void;
  /** MapState entries of the current key and namespace, in user-key byte order. */
  entries(namespace: string): IterableIterator<[Key, unknown]>;
  /** Removes every user key of the current key and namespace. */
  removeAll(namespace: string): void;
  /**
   * Visits up to `budget` entries of the whole table from where the last call stopped,
   * removing those `expired` says are; returns how many it removed. TTL cleanup calls it a
   * little at a time instead of scanning everything at once.
   */
  cleanupStep(budget: number, expired: (value: unknown) => boolean): number;
}

export interface KeyedStateBackend {
  readonly kind: 'heap' | 'lmdb';
  setCurrentKey(current: CurrentKey): void;
  readonly currentKey: CurrentKey;
  table(name: string, serializer: ValueSerializer): StateTable;
  /** Makes pending writes visible to range scans and bounded in memory (the LMDB write-back cache). */
  flush(): void;
  /** Key groups written since the last call: what an incremental snapshot must copy. */
  takeDirtyKeyGroups(): Set<number>;
  /**
   * Every entry of every table as of now, copied: the synchronous part of a checkpoint,
   * taken between two calls into user code. Plain data (structured-clonable).
   */
  snapshot(target?: SnapshotTarget, canonical?: boolean): BackendSnapshot;
  /** Before any state is used: the entries of `snapshot` that fall in this backend's key groups (once per restored part). */
  restore(snapshot: BackendSnapshot): void;
  close(): void;
  /** After close(): settles once nothing of the backend runs any more (an environment copy on another thread). */
  idle?(): Promise<void>;
}

/**
 * A full snapshot of one backend, per table, in that backend's own bytes. Heap: a
 * serialized Map per key group. LMDB: one blob per table of (u32 length, key, u32 length,
 * value) pairs in key order, each key starting with its key group (u16, big-endian), so a
 * key group is a contiguous run. Canonical: what savepoints hold, and what a backend
 * switch goes through (core/state/canonical.ts).
 */
export type BackendSnapshot =
  /** `descriptors`: each table's serializer; `maps`: the MapState tables (absent in checkpoints of earlier versions). */
  | { readonly kind: 'heap'; readonly tables: Readonly<Record<string, Readonly<Record<number, Uint8Array>>>>;
      readonly descriptors?: Readonly<Record<string, string>>; readonly maps?: readonly string[] }
  | { readonly kind: 'lmdb'; readonly tables: Readonly<Record<string, Uint8Array>>; readonly descriptors?: Readonly<Record<string, string>> }
  /** Backend-independent (core/state/canonical.ts): what savepoints hold. */
  | { readonly kind: 'canonical'; readonly tables: import('./canonical.ts').CanonicalTables }
  /** LMDB copied natively: the environment file, beside the state file, and the tables in it. */
  /** `file` is relative to the directory of the subtask's state file (absolute in checkpoints of earlier versions). */
  | {
    readonly kind: 'lmdb-env'; readonly file: string; readonly tables: readonly string[]; readonly descriptors?: Readonly<Record<string, string>>;
    /** What the write-back cache held that the copied environment does not: applied over it on a restore (absent in older checkpoints). */
    readonly overlay?: EnvironmentOverlay;
  };

/**
 * Per table, what differs from a copied environment: `puts` to write over it and `removals`
 * (keys, with empty values) to delete from it, packed as CanonicalTable.pairs; `numbers`, the
 * write-back cache's number values of number keys, in columns, serialized with the table's
 * serializer only on a restore. One entry per key across all three.
 */
export type EnvironmentOverlay = Readonly<Record<string, {
  readonly puts: Uint8Array;
  readonly removals: Uint8Array;
  readonly numbers?: import('./number-slab.ts').NumberColumns;
}>>;

/**
 * Where a snapshot may put files of its own beside the subtask's state file, for state too
 * large to go through it. `defer` registers the asynchronous part: the checkpoint is
 * acknowledged only once it has resolved, with each file's size and checksum.
 */
export interface SnapshotTarget {
  /** An absolute path prefix for this operator's files in the checkpoint directory. */
  readonly prefix: string;
  defer(file: string, done: Promise<unknown>): void;
}
