// One LMDB state table (a named database): reads and writes through the backend's write cache, scans merged with it.

import type { Database } from 'lmdb';
import { WeirError } from '../errors.ts';
import type { Key } from '../keys/encoding.ts';
import { decodeKeyAt } from '../keys/decoding.ts';
import { keyId } from '../keys/key-id.ts';
import type { KeyId } from '../keys/key-id.ts';
import type { BackendContext, StateTable, ValueSerializer } from './backend.ts';
import { describeKey, encodedKeyString, keyGroupOfTagged, lmdbKey, MAX_LMDB_KEY_BYTES, prefixEnd } from './lmdb-keys.ts';
import { scanRange } from './lmdb-scan.ts';
import type { ScanItem } from './lmdb-scan.ts';
import type { CacheEntry, WriteCache } from './write-cache.ts';
import { DEFERRED } from './write-cache.ts';
import type { NumberSlab } from './number-slab.ts';
import { GENERAL_DESCRIPTOR } from '../codec/general.ts';

/** What a table needs from its backend. */
export interface TableHost {
  readonly ctx: BackendContext;
  readonly cache: WriteCache<LmdbTable>;
  /** Bumped by every setCurrentKey, so a table can keep the key it built last. */
  readonly keyVersion: number;
  /** keyId of the current key. */
  currentId(): KeyId;
  /** Key group of the current key. */
  currentKeyGroup(): number;
  /** Key group (2 chars) and canonical encoding of the current key, as latin1. */
  currentPrefix(): string;
  markDirty(keyGroup: number): void;
}

/** MapState entries read from LMDB per batch: an iteration holds no LMDB cursor while user code runs. */
const SCAN_BATCH = 256;
const DEFAULT_NAMESPACE = encodedKeyString('');
/** What a number value is charged in the general cache when it moves there from a slab (msgpack's largest number). */
const NUMBER_BYTES = 9;

type Index = Map<unknown, CacheEntry<LmdbTable>>;

export class LmdbTable implements StateTable {
  readonly name: string;
  readonly serializer: ValueSerializer;
  readonly db: Database<Uint8Array, Buffer>;
  /** First char of this table's cache keys. */
  readonly tag: string;
  private readonly host: TableHost;
  /**
   * Where cached entries are found. Value state in the default namespace, the hot case, by
   * the current key's keyId (a number key stays a number: no string is built on a hit);
   * everything else by its tagged LMDB key string.
   */
  private readonly byId: Index = new Map();
  private readonly byKey: Index = new Map();
  /**
   * Number values of number keys in the default namespace, the commonest state (a count per
   * key), when values are general (a declared type is checked at the put, as a slab cannot).
   * A key is either here or in byId, never both.
   */
  readonly slab: NumberSlab | undefined;
  /** The slot the last slab lookup found, for the key version and slab epoch it was found at. */
  private recentSlot = -1;
  private recentSlotVersion = -1;
  private recentSlotEpoch = -1;
  /**
   * False while LMDB holds no row of this table (a fresh table that no flush or restore has
   * written to): a miss is then an absence without asking LMDB. The backend sets it when it
   * writes rows.
   */
  mayHoldRows: boolean;
  /** The entry the last fast-path get returned, and the key version it was for. */
  private recent: CacheEntry<LmdbTable> | undefined = undefined;
  private recentVersion = -1;
  // The key of (current key, namespace) built last: get then put of one key builds it once.
  private memoVersion = -1;
  private memoNamespace = '';
  private memoKey = '';
  private lastNamespace = '';
  private lastNamespaceString = DEFAULT_NAMESPACE;
  /** Where cleanupStep stopped: the last key it visited; undefined means the table's start. */
  private cleanupCursor: string | undefined = undefined;

  constructor(host: TableHost, name: string, serializer: ValueSerializer, db: Database<Uint8Array, Buffer>, tag: string) {
    this.host = host;
    this.name = name;
    this.serializer = serializer;
    this.deferred = serializer.descriptor === GENERAL_DESCRIPTOR;
    this.db = db;
    this.tag = tag;
    this.slab = this.deferred ? host.cache.newSlab() : undefined;
    this.mayHoldRows = false;
    for (const _ of db.getKeys({ limit: 1 })) this.mayHoldRows = true;
  }

  /** Values of the general codec are serialized at the flush; declared types at the put. */
  private readonly deferred: boolean;

  get(namespace: string, userKey: Key | undefined): unknown {
    const fast = namespace === '' && userKey === undefined;
    if (fast && this.slab !== undefined) {
      const id = this.host.currentId();
      if (typeof id === 'number') return this.getNumberKey(id);
    }
    let entry = this.find(fast, namespace, userKey);
    if (entry !== undefined) {
      this.host.cache.hits++;
      entry.referenced = true;
    } else {
      this.host.cache.misses++;
      const key = this.keyFor(fast, namespace, userKey);
      entry = fast ? this.load(this.byId, this.host.currentId(), key) : this.load(this.byKey, key, key);
    }
    if (fast) {
      this.recent = entry;
      this.recentVersion = this.host.keyVersion;
    }
    return entry.value;
  }

  put(namespace: string, userKey: Key | undefined, value: unknown): void {
    const fast = namespace === '' && userKey === undefined;
    if (fast && this.slab !== undefined) {
      const id = this.host.currentId();
      if (typeof id === 'number') return this.putNumberKey(id, value);
    }
    const found = this.find(fast, namespace, userKey);
    let bytes: Uint8Array;
    try {
      // A declared type is checked (and encoded, cheaply) at the put; general values at the flush.
      bytes = this.deferred ? DEFERRED : this.serializer.serialize(value);
    } catch (cause) {
      throw this.failure('cannot write the value', found?.key ?? this.keyFor(fast, namespace, userKey), cause);
    }
    // Created only now that the write cannot fail, so no entry ever claims an absence LMDB did not confirm.
    const entry = found ?? this.create(fast, namespace, userKey);
    this.host.markDirty(keyGroupOfTagged(entry.key));
    this.host.cache.write(entry, value, bytes, userKey === undefined ? undefined : this.baseKey(namespace));
  }

  remove(namespace: string, userKey: Key | undefined): void {
    const fast = namespace === '' && userKey === undefined;
    if (fast && this.slab !== undefined) {
      const id = this.host.currentId();
      if (typeof id === 'number') return this.removeNumberKey(id);
    }
    const found = this.find(fast, namespace, userKey);
    if (found !== undefined && !found.present) return; // absent in LMDB, or its removal is pending
    const entry = found ?? this.create(fast, namespace, userKey);
    this.removeEntry(entry, userKey === undefined ? undefined : this.baseKey(namespace));
  }

  /** The slab's slot of the current key (a number), or -1; the last one found is kept for the get-then-put of an update. */
  private slotOf(id: number): number {
    const slab = this.slab!;
    if (this.recentSlotVersion === this.host.keyVersion && this.recentSlotEpoch === slab.epoch) return this.recentSlot;
    const slot = slab.find(id);
    if (slot >= 0) this.keepSlot(slot);
    return slot;
  }

  private keepSlot(slot: number): void {
    this.recentSlot = slot;
    this.recentSlotVersion = this.host.keyVersion;
    this.recentSlotEpoch = this.slab!.epoch;
  }

  /** The general cache's entry of the current key (a number whose value is not). */
  private generalEntry(id: number): CacheEntry<LmdbTable> | undefined {
    const recent = this.recent;
    if (recent !== undefined && this.recentVersion === this.host.keyVersion && recent.linked) return recent;
    return this.byId.get(id);
  }

  private getNumberKey(id: number): unknown {
    const slot = this.slotOf(id);
    if (slot >= 0) {
      this.host.cache.hits++;
      return this.slab!.read(slot);
    }
    const entry = this.generalEntry(id);
    if (entry !== undefined) {
      this.host.cache.hits++;
      entry.referenced = true;
      this.recent = entry;
      this.recentVersion = this.host.keyVersion;
      return entry.value;
    }
    this.host.cache.misses++;
    return this.loadNumberKey(id);
  }

  /** A miss on a number key: absences and number values go to the slab, anything else to the general cache. */
  private loadNumberKey(id: number): unknown {
    const key = this.baseKey('');
    const found = this.mayHoldRows ? this.db.getBinaryFast(lmdbKey(key)) : undefined;
    if (found === undefined) {
      this.keepSlot(this.slab!.insert(id, this.host.currentKeyGroup(), undefined, false));
      return undefined;
    }
    const bytes = found.subarray(0, found.length);
    const value = this.decode(bytes, key);
    if (typeof value === 'number') {
      this.keepSlot(this.slab!.insert(id, this.host.currentKeyGroup(), value, false));
      return value;
    }
    const entry = this.host.cache.remember(this.byId, id, key, this, true, value, bytes.length);
    this.recent = entry;
    this.recentVersion = this.host.keyVersion;
    return value;
  }

  private putNumberKey(id: number, value: unknown): void {
    const slab = this.slab!;
    const slot = this.slotOf(id);
    const keyGroup = this.host.currentKeyGroup();
    this.host.markDirty(keyGroup);
    if (typeof value === 'number') {
      if (slot >= 0) return slab.write(slot, value);
      const entry = this.generalEntry(id);
      if (entry !== undefined) return this.host.cache.write(entry, value, DEFERRED, undefined);
      this.keepSlot(slab.insert(id, keyGroup, value, true));
      return;
    }
    // Any other value lives in the general cache; the slot, if any, is superseded by this write.
    if (slot >= 0) slab.remove(slot);
    const entry = this.generalEntry(id) ?? this.host.cache.create(this.byId, id, this.baseKey(''), this);
    this.host.cache.write(entry, value, DEFERRED, undefined);
  }

  private removeNumberKey(id: number): void {
    const slab = this.slab!;
    const slot = this.slotOf(id);
    if (slot >= 0) {
      if (!slab.present(slot)) return; // absent in LMDB, or its removal is pending
      this.host.markDirty(this.host.currentKeyGroup());
      return slab.write(slot, undefined);
    }
    const entry = this.generalEntry(id);
    if (entry !== undefined) {
      if (entry.present) this.removeEntry(entry, undefined);
      return;
    }
    const keyGroup = this.host.currentKeyGroup();
    this.host.markDirty(keyGroup);
    this.keepSlot(slab.insert(id, keyGroup, undefined, true));
  }

  /** The cached entry of (current key, namespace, user key), if any. */
  private find(fast: boolean, namespace: string, userKey: Key | undefined): CacheEntry<LmdbTable> | undefined {
    // Get then put of one key is the common update: the get's entry saves the put a lookup.
    const recent = this.recent;
    if (fast && recent !== undefined && this.recentVersion === this.host.keyVersion && recent.linked) return recent;
    return fast ? this.byId.get(this.host.currentId()) : this.byKey.get(this.keyOf(namespace, userKey));
  }

  private create(fast: boolean, namespace: string, userKey: Key | undefined): CacheEntry<LmdbTable> {
    const key = this.keyFor(fast, namespace, userKey);
    return fast ? this.host.cache.create(this.byId, this.host.currentId(), key, this) : this.host.cache.create(this.byKey, key, key, this);
  }

  private keyFor(fast: boolean, namespace: string, userKey: Key | undefined): string {
    return fast ? this.baseKey('') : this.keyOf(namespace, userKey);
  }

  /**
   * Weakly consistent, like a concurrent map's iterator: each batch is the merged view of LMDB
   * and the cache at the time it is read, so writes made during iteration show up if they
   * fall after the last key returned.
   */
  *entries(namespace: string): IterableIterator<[Key, unknown]> {
    const group = this.baseKey(namespace);
    const userKeyAt = group.length - 1; // the tag is not in the LMDB key
    for (let after = group; ;) {
      const batch = scanRange(this, after, prefixEnd(group), false, SCAN_BATCH, this.host.cache.dirtyIn(group));
      const entries: [Key, unknown][] = batch.items.map((item) => [
        decodeKeyAt(lmdbKey(item.key), userKeyAt).key,
        item.entry !== undefined ? item.entry.value : this.decode(item.bytes!, item.key),
      ]);
      yield* entries;
      if (batch.last === undefined) return;
      after = batch.last;
    }
  }

  removeAll(namespace: string): void {
    const group = this.baseKey(namespace);
    for (let after = group; ;) {
      const batch = scanRange(this, after, prefixEnd(group), false, SCAN_BATCH, this.host.cache.dirtyIn(group));
      for (const item of batch.items) this.removeEntry(this.cachedOrCreated(item), group);
      if (batch.last === undefined) return;
      after = batch.last;
    }
  }

  cleanupStep(budget: number, expired: (value: unknown) => boolean): number {
    const origin = this.cleanupCursor;
    let removed = 0;
    let visited = 0;
    let after = origin;
    let wrapped = false;
    while (visited < budget) {
      // After wrapping, the pass runs from the table's start up to where this call began.
      const batch = scanRange(this, after, wrapped ? origin : undefined, wrapped, budget - visited, undefined);
      visited += batch.rows;
      for (const item of batch.items) {
        const value = item.entry !== undefined ? item.entry.value : this.decode(item.bytes!, item.key);
        if (expired(value)) {
          this.removeEntry(this.cachedOrCreated(item), undefined);
          removed++;
        }
        this.cleanupCursor = item.key;
      }
      if (batch.last !== undefined) {
        this.cleanupCursor = batch.last;
        continue;
      }
      if (wrapped || origin === undefined) {
        if (!wrapped) this.cleanupCursor = undefined;
        break;
      }
      wrapped = true;
      after = undefined;
      this.cleanupCursor = undefined;
    }
    return removed;
  }

  /** The cache key of (current key, namespace, user key). */
  private keyOf(namespace: string, userKey: Key | undefined): string {
    const base = this.baseKey(namespace);
    if (userKey === undefined) return base;
    let key: string;
    try {
      key = base + encodedKeyString(userKey);
    } catch (cause) {
      throw new WeirError(`state '${this.name}': the map key is not a valid key: ${(cause as Error).message}`, {
        uid: this.host.ctx.uid, subtask: this.host.ctx.subtask, cause,
      });
    }
    if (key.length - 1 > MAX_LMDB_KEY_BYTES) throw this.tooLarge(key);
    return key;
  }

  /** The cache key of (current key, namespace): also the prefix of its MapState entries. */
  private baseKey(namespace: string): string {
    const host = this.host;
    if (this.memoVersion === host.keyVersion && this.memoNamespace === namespace) return this.memoKey;
    const key = this.tag + host.currentPrefix() + this.namespaceString(namespace);
    if (key.length - 1 > MAX_LMDB_KEY_BYTES) throw this.tooLarge(key);
    this.memoVersion = host.keyVersion;
    this.memoNamespace = namespace;
    this.memoKey = key;
    return key;
  }

  private namespaceString(namespace: string): string {
    if (namespace === '') return DEFAULT_NAMESPACE;
    if (namespace !== this.lastNamespace) {
      this.lastNamespaceString = encodedKeyString(namespace);
      this.lastNamespace = namespace;
    }
    return this.lastNamespaceString;
  }

  /** A miss: asks LMDB and remembers the answer, absence included. */
  private load(index: Index, id: unknown, key: string): CacheEntry<LmdbTable> {
    const found = this.mayHoldRows ? this.db.getBinaryFast(lmdbKey(key)) : undefined;
    if (found === undefined) return this.host.cache.remember(index, id, key, this, false, undefined, 0);
    // getBinaryFast answers with a view of a shared 16 MB buffer whose own `length` property is
    // the value's: the subarray gives deserializers a byteLength they can trust.
    const bytes = found.subarray(0, found.length);
    const value = this.decode(bytes, key); // before remembering: a value that fails to decode is not cached as absent
    return this.host.cache.remember(index, id, key, this, true, value, bytes.length);
  }

  private removeEntry(entry: CacheEntry<LmdbTable>, group: string | undefined): void {
    this.host.markDirty(keyGroupOfTagged(entry.key));
    this.host.cache.write(entry, undefined, undefined, group);
  }

  /** Where this table keeps the entry of a tagged LMDB key met in a scan (see byId). */
  private locate(key: string): [Index, unknown] {
    if (key.endsWith(DEFAULT_NAMESPACE)) {
      const bytes = lmdbKey(key);
      const { key: current, end } = decodeKeyAt(bytes, 2);
      if (end + DEFAULT_NAMESPACE.length === bytes.length) return [this.byId, keyId(current)];
    }
    return [this.byKey, key];
  }

  /** The cached entry of a tagged LMDB key, wherever this table keeps it. */
  cached(key: string): CacheEntry<LmdbTable> | undefined {
    const [index, id] = this.locate(key);
    return this.cachedAt(index, id, key);
  }

  private cachedOrCreated(item: ScanItem<LmdbTable>): CacheEntry<LmdbTable> {
    // A write since the scan (an earlier removal of the same batch) may have evicted it.
    if (item.entry !== undefined && item.entry.linked) return item.entry;
    const [index, id] = this.locate(item.key);
    return this.cachedAt(index, id, item.key) ?? this.host.cache.create(index, id, item.key, this);
  }

  /** A scan meets keys one at a time and wants entries: a slab's key moves to the general cache (scans of slab keys are rare: TTL cleanup). */
  private cachedAt(index: Index, id: unknown, key: string): CacheEntry<LmdbTable> | undefined {
    const slab = this.slab;
    if (index === this.byId && typeof id === 'number' && slab !== undefined) {
      const slot = slab.find(id);
      if (slot >= 0) {
        const dirty = slab.dirty(slot);
        const value = slab.read(slot);
        slab.remove(slot);
        const cache = this.host.cache;
        if (!dirty) return cache.remember(this.byId, id, key, this, value !== undefined, value, value === undefined ? 0 : NUMBER_BYTES);
        const entry = cache.create(this.byId, id, key, this);
        cache.write(entry, value, value === undefined ? undefined : DEFERRED, undefined);
        return entry;
      }
    }
    return index.get(id);
  }

  /** The bytes of a slab's value at flush time, as a view valid until the next call. */
  serializeNumber(value: number): Uint8Array {
    const s = this.serializer;
    return s.serializeView !== undefined ? s.serializeView(value) : s.serialize(value);
  }

  private decode(bytes: Uint8Array, key: string): unknown {
    try {
      return this.serializer.deserialize(bytes);
    } catch (cause) {
      throw this.failure('cannot read the stored value', key, cause);
    }
  }

  /** The bytes of a deferred put, at flush time, as a view valid until the next call; an error names the key. */
  serializeForFlush(entry: CacheEntry<LmdbTable>): Uint8Array {
    try {
      const s = this.serializer;
      return s.serializeView !== undefined ? s.serializeView(entry.value) : s.serialize(entry.value);
    } catch (cause) {
      throw this.failure('cannot write the value', entry.key, cause);
    }
  }

  private failure(what: string, key: string, cause: unknown): WeirError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new WeirError(`state '${this.name}' ${what} of ${describeKey(lmdbKey(key))} (${this.serializer.descriptor}): ${reason}`, {
      uid: this.host.ctx.uid, subtask: this.host.ctx.subtask, cause,
    });
  }

  private tooLarge(key: string): WeirError {
    return new WeirError(
      `state '${this.name}': the key of ${describeKey(Buffer.from(key.slice(1), 'latin1'))} takes ${key.length - 1} bytes, more than LMDB's ${MAX_LMDB_KEY_BYTES}`,
      { uid: this.host.ctx.uid, subtask: this.host.ctx.subtask },
    );
  }
}
