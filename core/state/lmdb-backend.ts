// The LMDB keyed state backend: one working environment per keyed operator subtask, one named database per table, behind a write-back cache.

import { copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkKeyGroup } from './key-check.ts';
import { open } from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';
import { fsyncPath } from '../durable.ts';
import { WeirError } from '../errors.ts';
import { keyId } from '../keys/key-id.ts';
import type { KeyId } from '../keys/key-id.ts';
import type { Key } from '../keys/encoding.ts';
import type { BackendContext, BackendSnapshot, CurrentKey, EnvironmentOverlay, KeyedStateBackend, SnapshotTarget, ValueSerializer } from './backend.ts';
import { encodedKeyString, keyGroupString, lmdbKey, numberStateKey } from './lmdb-keys.ts';
import { LmdbTable } from './lmdb-table.ts';
import type { TableHost } from './lmdb-table.ts';
import { DEFERRED, WriteCache } from './write-cache.ts';
import { heapToCanonical } from './heap-backend.ts';
import { lmdbPairsToCanonical, PairWriter, rawPairs } from './canonical.ts';
import type { EnvironmentReader } from './canonical.ts';
import { tmpdir } from 'node:os';
import type { CacheEntry, CacheStats } from './write-cache.ts';
import type { NumberColumns, NumberSlab } from './number-slab.ts';
import { serializerFromDescriptor } from './serializers.ts';

export interface LmdbBackendOptions {
  /** Bytes the write-back cache may hold: pending writes and decoded values of recently used keys. */
  readonly cacheBytes: number;
  /**
   * The caller deletes the environment after close(): pending writes are dropped instead of flushed
   * (a flush no reader will see cost 4% of a running-count job). Leave it unset to reopen.
   */
  readonly discardOnClose?: boolean;
}

/**
 * Named databases one environment can hold: LMDB reserves a slot per possible database in
 * every transaction, so this is a bound, not a goal; tables per worker (chained operators
 * times their states) stay far below it.
 */
export const MAX_TABLES = 1000;

/**
 * Opens a working environment in `dir` (created if missing). It is scratch space: the caller
 * gives each attempt of each worker a fresh directory, and checkpoints, not this
 * environment, make state durable, so it is opened without sync.
 */
export function openLmdbBackend(dir: string, ctx: BackendContext, opts: LmdbBackendOptions): LmdbBackend {
  mkdirSync(dir, { recursive: true });
  // lmdb-js 3 starts the map small and grows it when a commit needs room (no mapSize here).
  // noMemInit: pages of a private scratch environment need not be zeroed first.
  // Not useWritemap: LMDB's writemap freelist code aborts the process ("Assertion 'x <=
  // dl[0].mid' failed in mdb_freelist_save()", lmdb-js issue 212) under the put/delete churn
  // of window state; the event-time suite hit it in 4 runs of 4 with it and in none since.
  // It once halved a 5-million-key job; re-measured without it (BENCHMARKS.md, keyed state,
  // run D) the state figures moved within what load moves them.
  const env = open({ path: dir, noSync: true, noMemInit: true, maxDbs: MAX_TABLES, cache: false });
  const backend = new LmdbBackend(env, ctx, opts.cacheBytes);
  backend.discardOnClose = opts.discardOnClose ?? false;
  backend.dir = dir;
  return backend;
}

export class LmdbBackend implements KeyedStateBackend, TableHost {
  readonly kind = 'lmdb';
  readonly ctx: BackendContext;
  readonly cache: WriteCache<LmdbTable>;
  keyVersion = 0;
  private readonly env: RootDatabase;
  private readonly tables = new Map<string, LmdbTable>();
  private current: CurrentKey | undefined = undefined;
  // Derived from the current key when a table first needs them: a cache hit on Value state
  // needs only the id, and a number key is its own id.
  private idVersion = -1;
  private id: KeyId = 0;
  private prefixVersion = -1;
  private prefix = '';
  private dirtyKeyGroups = new Set<number>();
  /** Tables restored from a checkpoint before user code first asked for them. */
  private readonly restored = new Map<string, Database<Uint8Array, Buffer>>();
  /** The serializer each restored table's values were written with, where the snapshot says. */
  private readonly restoredDescriptors = new Map<string, string>();
  private closed = false;

  constructor(env: RootDatabase, ctx: BackendContext, cacheBytes: number) {
    this.env = env;
    this.ctx = ctx;
    this.cache = new WriteCache<LmdbTable>(cacheBytes, (sorted) => this.write(sorted));
  }

  get currentKey(): CurrentKey {
    if (this.current === undefined) throw this.error('no current key is set: keyed state is used outside a keyed context');
    return this.current;
  }

  setCurrentKey(current: CurrentKey): void {
    checkKeyGroup(this.ctx, current);
    this.current = current;
    this.keyVersion++;
  }

  currentId(): KeyId {
    if (this.idVersion !== this.keyVersion) {
      this.id = this.derive(keyId);
      this.idVersion = this.keyVersion;
    }
    return this.id;
  }

  currentKeyGroup(): number {
    return this.currentKey.keyGroup;
  }

  currentPrefix(): string {
    if (this.prefixVersion !== this.keyVersion) {
      this.prefix = this.derive((key) => keyGroupString(this.current!.keyGroup) + encodedKeyString(key));
      this.prefixVersion = this.keyVersion;
    }
    return this.prefix;
  }

  private derive<T>(from: (key: Key) => T): T {
    if (this.current === undefined) throw this.error('no current key is set: keyed state is used outside a keyed context');
    try {
      return from(this.current.key);
    } catch (cause) {
      throw this.error(`the current key is not a valid key: ${(cause as Error).message}`, cause);
    }
  }

  markDirty(keyGroup: number): void {
    this.dirtyKeyGroups.add(keyGroup);
  }

  table(name: string, serializer: ValueSerializer): LmdbTable {
    const known = this.tables.get(name);
    if (known !== undefined) {
      if (known.serializer.descriptor !== serializer.descriptor) {
        throw this.error(`state '${name}' is already open with serializer ${known.serializer.descriptor}, not ${serializer.descriptor}`);
      }
      return known;
    }
    if (this.tables.size >= MAX_TABLES) throw this.error(`more than ${MAX_TABLES} state tables in one operator subtask`);
    const was = this.restoredDescriptors.get(name);
    if (was !== undefined && was !== serializer.descriptor) {
      throw new WeirError(`state '${name}' was checkpointed with serializer ${was} and is now declared with ${serializer.descriptor}: a state whose type changed cannot be restored (give the new one another name)`,
          { uid: this.ctx.uid, subtask: this.ctx.subtask, unrecoverable: true });
    }
    const db = this.restored.get(name) ?? this.openTable(name);
    // The tag orders tables in the cache's sorted flush; one char is enough for MAX_TABLES.
    const table = new LmdbTable(this, name, serializer, db, String.fromCharCode(this.tables.size));
    this.tables.set(name, table);
    return table;
  }

  flush(): void {
    this.cache.flush();
  }

  private openTable(name: string): Database<Uint8Array, Buffer> {
    return this.env.openDB<Uint8Array, Buffer>(`${this.ctx.uid}/${name}`, { keyEncoding: 'binary', encoding: 'binary', cache: false });
  }

  /**
   * A checkpoint (a target, not canonical): the environment copied or linked, with the cache's
   * dirty entries as an overlay over it (copyEnvironment, overlay). Otherwise (a savepoint's
   * canonical form, or no target): flushes the write-back cache, then reads every table's
   * pairs. Nothing writes in between (the actor's thread is here), so either is point-in-time
   * without a long read transaction.
   */
  snapshot(target?: SnapshotTarget, canonical = false): BackendSnapshot {
    if (target !== undefined && !canonical) {
      // Dirty entries the last checkpoint took and nothing changed since would be taken again
      // by every checkpoint until a flush: where they outnumber the fresh ones, flush instead.
      const { dirty, fresh } = this.cache.freshness();
      if (dirty - fresh > fresh) this.cache.flush();
      return this.copyEnvironment(target, this.overlay());
    }
    this.cache.flush();
    const tables: Record<string, Uint8Array> = {};
    const names = [...new Set([...this.tables.keys(), ...this.restored.keys()])];
    for (const name of names) {
      const db = this.tables.get(name)?.db ?? this.restored.get(name)!;
      tables[name] = pairsOf(db);
    }
    const descriptors = this.descriptors(names);
    if (!canonical) return { kind: 'lmdb', tables, descriptors };
    const out: Record<string, { descriptor: string; pairs: Uint8Array }> = {};
    for (const name of names) {
      const descriptor = descriptors[name];
      if (descriptor === undefined) {
        if (tables[name]!.length === 0) continue;
        throw this.error(`state '${name}' has entries but no serializer is known for it`);
      }
      out[name] = { descriptor, pairs: tables[name]! };
    }
    return { kind: 'canonical', tables: out };
  }

  private descriptors(names: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of names) {
      const d = this.tables.get(name)?.serializer.descriptor ?? this.restoredDescriptors.get(name);
      if (d !== undefined) out[name] = d;
    }
    return out;
  }

  /**
   * LMDB's own copy of the environment (mdb_env_copy2 on a libuv thread, off the actor's;
   * BENCHMARKS.md, Checkpoints, has what it did to the 1M-key job). Its read transaction begins when the
   * copy starts, not now, so the write-back cache holds every write until it is done: no
   * commit lands in between, and the copy is the state as of this call. With no commit since
   * the last complete copy, that copy is linked instead.
   */
  private copyEnvironment(target: SnapshotTarget, overlay: EnvironmentOverlay): BackendSnapshot {
    const dir = `${target.prefix}.lmdb`;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'data.mdb');
    const commits = this.commits;
    const last = this.lastCopy;
    let linked = false;
    // No commit since the last complete copy: the environment is that copy, byte for byte, and
    // a link to it costs nothing (checkpoint files are never written again once complete).
    if (last !== null && last.commits === commits && this.copying === null) {
      try {
        linkSync(last.file, file);
        linked = true;
      } catch {
        // Gone with its checkpoint, or across file systems: copy as below.
      }
    }
    if (!linked) {
      this.cache.hold();
      this.copying = this.env.backup(dir, false).then(() => {
        this.lastCopy = { file, commits };
      }).finally(() => {
        this.copying = null;
        if (!this.closed) this.cache.release();
      });
    }
    // mdb_env_copy2 writes with O_DIRECT but never fsyncs: the checkpoint does.
    target.defer(file, (linked ? Promise.resolve() : this.copying!).then(() => fsyncPath(file)));
    const tables = [...new Set([...this.tables.keys(), ...this.restored.keys()])];
    // The file by its name beside the subtask's state file: a moved checkpoint directory still restores.
    return { kind: 'lmdb-env', file: join(basename(dir), 'data.mdb'), tables, descriptors: this.descriptors(tables), overlay };
  }

  /** Write transactions committed to the working environment so far (copies taken at the same count hold the same rows). */
  private commits = 0;
  /** The last complete copy of the environment, and the commit count it holds. */
  private lastCopy: { file: string; commits: number } | null = null;

  /**
   * What the write-back cache holds that the environment does not, per table: every dirty
   * entry and dirty slab slot, serialized now (at the barrier, before any later record changes
   * them). A checkpoint takes it instead of flushing them: the flush was most of a checkpoint's
   * synchronous part, a write into LMDB per dirty key, and kept the environment changing, so
   * that each checkpoint copied all of it (BENCHMARKS.md, LMDB checkpoints with an overlay).
   */
  private overlay(): EnvironmentOverlay {
    const writers = new Map<LmdbTable, { puts: PairWriter; removals: PairWriter }>();
    const key: Uint8Array[] = [];
    for (const entry of this.cache.dirtyEntries()) {
      let w = writers.get(entry.owner);
      if (w === undefined) writers.set(entry.owner, (w = { puts: new PairWriter(), removals: new PairWriter() }));
      key[0] = lmdbKey(entry.key);
      const bytes = entry.bytes === DEFERRED ? entry.owner.serializeForFlush(entry) : entry.bytes;
      if (bytes === undefined) w.removals.write(key, NO_BYTES);
      else w.puts.write(key, bytes);
    }
    const out: Record<string, { puts: Uint8Array; removals: Uint8Array; numbers?: NumberColumns }> = {};
    for (const [t, w] of writers) out[t.name] = { puts: w.puts.bytes(), removals: w.removals.bytes() };
    // Slab slots as they are held (a copy of four columns): serialized, by the table's
    // serializer, only if the checkpoint is restored.
    for (const table of this.tables.values()) {
      const slab = table.slab;
      if (slab === undefined || slab.dirtyCount === 0) continue;
      out[table.name] = { ...(out[table.name] ?? { puts: NO_BYTES, removals: NO_BYTES }), numbers: slab.dirtyColumns() };
    }
    this.cache.markSeen();
    return out;
  }

  /** A copy in flight: closing the environment under it would free memory the copy still reads. */
  copying: Promise<void> | null = null;

  /** Once per restored part (a rescaled subtask restores every old subtask whose key groups overlap its own). */
  restore(snapshot: BackendSnapshot): void {
    this.commits++;
    for (const [name, d] of Object.entries(snapshot.kind === 'canonical' ? {} : snapshot.kind === 'heap' ? {} : snapshot.descriptors ?? {})) {
      this.restoredDescriptors.set(name, d);
    }
    if (snapshot.kind === 'lmdb-env') return this.importEnvironment(snapshot.file, snapshot.tables, snapshot.overlay, snapshot.descriptors);
    if (snapshot.kind === 'heap') return this.restore({ kind: 'canonical', tables: heapToCanonical(snapshot, this.ctx) });
    if (snapshot.kind === 'canonical') {
      const tables: Record<string, Uint8Array> = {};
      for (const [name, t] of Object.entries(snapshot.tables)) {
        this.restoredDescriptors.set(name, t.descriptor);
        tables[name] = t.pairs;
      }
      return this.restorePairs(tables);
    }
    this.restorePairs(snapshot.tables);
  }

  private restorePairs(tables: Readonly<Record<string, Uint8Array>>): void {
    const { start, end } = this.ctx.keyGroups;
    for (const [name, blob] of Object.entries(tables)) {
      const db = this.restoreInto(name);
      const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
      this.env.transactionSync(() => {
        for (let p = 0; p < bytes.length;) {
          const kl = bytes.readUInt32LE(p);
          const key = bytes.subarray(p + 4, p + 4 + kl);
          p += 4 + kl;
          const vl = bytes.readUInt32LE(p);
          const value = bytes.subarray(p + 4, p + 4 + vl);
          p += 4 + vl;
          const kg = (key[0]! << 8) | key[1]!;
          if (kg >= start && kg <= end) db.putSync(key, value);
        }
      });
    }
  }

  /** The table a restore writes rows of `name` into; an open table's misses must ask LMDB from now on. */
  private restoreInto(name: string): Database<Uint8Array, Buffer> {
    const db = this.restored.get(name) ?? this.openTable(name);
    this.restored.set(name, db);
    const open = this.tables.get(name);
    if (open !== undefined) open.mayHoldRows = true;
    return db;
  }

  takeDirtyKeyGroups(): Set<number> {
    const taken = this.dirtyKeyGroups;
    this.dirtyKeyGroups = new Set();
    return taken;
  }

  /**
   * Reads a copied environment and writes the pairs of this backend's key groups into the
   * working one. The copy is copied first: opening it where it lies would write a lock file
   * into the checkpoint, and LMDB may write into what it opens.
   */
  private importEnvironment(file: string, tables: readonly string[], overlay: EnvironmentOverlay | undefined,
    descriptors: Readonly<Record<string, string>> | undefined): void {
    withEnvironmentCopy(file, `${this.dir}.restore-`, this.ctx.uid, overlay, descriptors, (copy) => {
      const { start, end } = this.ctx.keyGroups;
      for (const name of tables) {
        const from = copy.openDB<Uint8Array, Buffer>(`${this.ctx.uid}/${name}`, { keyEncoding: 'binary', encoding: 'binary', cache: false });
        const db = this.restoreInto(name);
        this.env.transactionSync(() => {
          for (const { key, value } of from.getRange({})) {
            const kg = (key[0]! << 8) | key[1]!;
            if (kg >= start && kg <= end) db.putSync(key, value);
          }
        });
      }
    });
  }

  cacheStats(): CacheStats {
    return this.cache.stats();
  }

  discardOnClose = false;
  /** The environment's directory. */
  dir = '';

  close(): void {
    if (this.closed) return;
    if (!this.discardOnClose) this.cache.flush();
    this.closed = true;
    // With no write in flight, lmdb-js closes synchronously; the promise only reports that.
    // A copy still running keeps the environment open until it is done.
    this.closing = this.copying !== null ? this.copying.then(() => {}, () => {}).then(() => this.env.close()) : this.env.close();
  }

  private closing: Promise<unknown> | null = null;

  idle(): Promise<void> {
    return (this.closing ?? Promise.resolve()).then(() => {}, () => {});
  }

  /**
   * Where a flush gathers the values it writes: one buffer, reused, so lmdb-js looks up one
   * memory address per flush instead of one per value (each serialized value had its own
   * ArrayBuffer), and deferred values are encoded into it without a copy of their own. It
   * grows to the largest flush's values, which the cache's dirty share bounds.
   */
  private arena = Buffer.allocUnsafe(64 * 1024);

  /** One write transaction for every dirty entry of every table, in key order (LMDB's fast path). */
  private write(sorted: readonly CacheEntry<LmdbTable>[]): void {
    if (this.closed) throw this.error('the LMDB state backend is closed');
    // Deferred values are encoded before the transaction opens: one that cannot be encoded
    // fails the flush (naming its key) with every entry still dirty and readable.
    const n = sorted.length;
    // The slabs' dirty slots follow the entries, table by table, each table's in key order.
    const slabs: [LmdbTable, NumberSlab, Int32Array][] = [];
    let total = n;
    for (const table of this.tables.values()) {
      const slab = table.slab;
      if (slab === undefined || slab.dirtyCount === 0) continue;
      const order = slab.dirtyInKeyOrder();
      slabs.push([table, slab, order]);
      total += order.length;
    }
    const ends = new Int32Array(total); // where each value ends in the arena; -1: a removal
    this.at = 0;
    for (let i = 0; i < n; i++) {
      const entry = sorted[i]!;
      ends[i] = this.place(entry.bytes === DEFERRED ? entry.owner.serializeForFlush(entry) : entry.bytes);
    }
    let i = n;
    for (const [table, slab, order] of slabs) {
      for (const slot of order) ends[i++] = this.place(slab.present(slot) ? table.serializeNumber(slab.read(slot)!) : undefined);
    }
    const arena = this.arena;
    this.env.transactionSync(() => {
      let from = 0;
      for (let i = 0; i < n; i++) {
        const entry = sorted[i]!;
        const key = lmdbKey(entry.key);
        const end = ends[i]!;
        if (end < 0) {
          entry.owner.db.removeSync(key);
          continue;
        }
        entry.owner.db.putSync(key, arena.subarray(from, end));
        entry.owner.mayHoldRows = true;
        from = end;
      }
      let at = n;
      for (const [table, slab, order] of slabs) {
        const db = table.db;
        for (const slot of order) {
          const key = numberStateKey(slab.keyGroup(slot), slab.key(slot));
          const end = ends[at++]!;
          if (end < 0) {
            db.removeSync(key);
            continue;
          }
          db.putSync(key, arena.subarray(from, end));
          from = end;
        }
        table.mayHoldRows = true;
      }
    });
    this.commits++;
  }

  private at = 0;

  /** Appends a value to the arena (growing it, values already placed copied along); returns where it ends, or -1 for a removal. */
  private place(bytes: Uint8Array | undefined): number {
    if (bytes === undefined) return -1;
    let arena = this.arena;
    if (this.at + bytes.length > arena.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * arena.length, this.at + bytes.length));
      grown.set(arena.subarray(0, this.at));
      arena = this.arena = grown;
    }
    arena.set(bytes, this.at);
    this.at += bytes.length;
    return this.at;
  }

  private error(message: string, cause?: unknown): WeirError {
    return new WeirError(message, { uid: this.ctx.uid, subtask: this.ctx.subtask, cause });
  }
}

/**
 * Opens a scratch copy of a checkpoint's LMDB environment, with the checkpoint's overlay
 * written over it where it has one (read-only where not): opening the checkpoint's file where
 * it lies would write a lock file into the checkpoint, and LMDB may write into what it opens.
 */
function withEnvironmentCopy<T>(file: string, scratchPrefix: string, uid: string, overlay: EnvironmentOverlay | undefined,
  descriptors: Readonly<Record<string, string>> | undefined, use: (env: RootDatabase) => T): T {
  const scratch = mkdtempSync(scratchPrefix);
  try {
    const copied = join(scratch, 'data.mdb');
    copyFileSync(file, copied);
    // Writable where an overlay goes over it (the scratch copy's own; the checkpoint's file is never opened).
    const copy = open({ path: copied, noSubdir: true, readOnly: overlay === undefined, maxDbs: MAX_TABLES, cache: false });
    try {
      if (overlay !== undefined) applyOverlay(copy, uid, overlay, file, descriptors);
      return use(copy);
    } finally {
      void copy.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Writes a checkpoint's overlay over the copy of its environment: puts, then removals (one entry per key across them). */
function applyOverlay(copy: RootDatabase, uid: string, overlay: EnvironmentOverlay, file: string,
  descriptors: Readonly<Record<string, string>> | undefined): void {
  copy.transactionSync(() => {
    for (const [name, { puts, removals, numbers }] of Object.entries(overlay)) {
      const db = copy.openDB<Uint8Array, Buffer>(`${uid}/${name}`, { keyEncoding: 'binary', encoding: 'binary', cache: false });
      const where = `the overlay of state '${name}' over ${file}`;
      for (const [key, value] of rawPairs(puts, where)) db.putSync(asBuffer(key), value);
      for (const [key] of rawPairs(removals, where)) db.removeSync(asBuffer(key));
      if (numbers === undefined || numbers.keys.length === 0) continue;
      const descriptor = descriptors?.[name];
      if (descriptor === undefined) throw new WeirError(`${where}: it holds number values but the checkpoint names no serializer for state '${name}'`);
      const serializer = serializerFromDescriptor(descriptor);
      for (let i = 0; i < numbers.keys.length; i++) {
        const key = numberStateKey(numbers.groups[i]!, numbers.keys[i]!);
        if (numbers.present[i] === 1) db.putSync(key, asBuffer(serializer.serialize(numbers.values[i]!)));
        else db.removeSync(key);
      }
    }
  });
}

const NO_BYTES = new Uint8Array(0);
const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** A table's pairs in key order, packed (one growing buffer, not an object per entry: 1M keys cost a few copies). */
function pairsOf(db: Database<Uint8Array, Buffer>): Uint8Array {
  const w = new PairWriter();
  const key: Uint8Array[] = [];
  for (const e of db.getRange({})) {
    key[0] = e.key;
    w.write(key, e.value);
  }
  return w.bytes();
}

/** A checkpoint's copied environment as canonical tables (for a restore into the heap backend). */
export const readEnvironmentCopy: EnvironmentReader = (file, uid, tables, descriptors, overlay) => withEnvironmentCopy(file, join(tmpdir(), 'weir-restore-'), uid, overlay, descriptors, (copy) => {
  const out: Record<string, Uint8Array> = {};
  for (const name of tables) {
    const from = copy.openDB<Uint8Array, Buffer>(`${uid}/${name}`, { keyEncoding: 'binary', encoding: 'binary', cache: false });
    out[name] = pairsOf(from);
  }
  return lmdbPairsToCanonical(out, descriptors, `operator '${uid}'`);
});
