// One LMDB state table (a named database): reads and writes through the backend's write cache, scans merged with it.

import type { Database } from 'lmdb';
import { WeirError } from '../errors.ts';
import type { Key } from '../keys/encoding.ts';
import { decodeKeyAt } from '../keys/decoding.ts';
import type { BackendContext, StateTable, ValueSerializer } from './backend.ts';
import {
  describeKey, encodedKeyString, keyGroupOfTagged, lmdbKey, lmdbKeyCopy, MAX_LMDB_KEY_BYTES, prefixEnd, taggedKey,
} from './lmdb-keys.ts';
import type { CacheEntry, WriteCache } from './write-cache.ts';

/** What a table needs from its backend. */
export interface TableHost {
  readonly ctx: BackendContext;
  readonly cache: WriteCache<LmdbTable>;
  /** Bumped by every setCurrentKey, so a table can keep the key it built last. */
  readonly keyVersion: number;
  /** Key group (2 chars) and canonical encoding of the current key, as latin1. */
  currentPrefix(): string;
  markDirty(keyGroup: number): void;
}

/** MapState entries read from LMDB per batch: a scan holds no LMDB cursor while user code runs. */
const SCAN_BATCH = 256;
const DEFAULT_NAMESPACE = encodedKeyString('');

interface ScanItem {
  readonly key: string;
  /** The cached entry (dirty or clean), which wins over LMDB's bytes. */
  readonly entry: CacheEntry<LmdbTable> | undefined;
  readonly bytes: Uint8Array | undefined;
}

interface ScanBatch {
  readonly items: ScanItem[];
  /** LMDB rows read (including rows a pending removal hides). */
  readonly rows: number;
  /** The last LMDB row's key when the batch stopped at its limit; undefined when the range is done. */
  readonly last: string | undefined;
}

export class LmdbTable implements StateTable {
  readonly name: string;
  readonly serializer: ValueSerializer;
  readonly db: Database<Uint8Array, Buffer>;
  /** First char of this table's cache keys. */
  readonly tag: string;
  private readonly host: TableHost;
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
    this.db = db;
    this.tag = tag;
  }

  get(namespace: string, userKey: Key | undefined): unknown {
    const key = this.keyOf(namespace, userKey);
    const entry = this.host.cache.lookup(key);
    return entry !== undefined ? entry.value : this.load(key);
  }

  put(namespace: string, userKey: Key | undefined, value: unknown): void {
    const key = this.keyOf(namespace, userKey);
    let bytes: Uint8Array;
    try {
      bytes = this.serializer.serialize(value);
    } catch (cause) {
      throw this.failure('cannot write the value', key, cause);
    }
    this.host.markDirty(keyGroupOfTagged(key));
    this.host.cache.write(key, this, value, bytes, userKey === undefined ? undefined : this.baseKey(namespace));
  }

  remove(namespace: string, userKey: Key | undefined): void {
    const key = this.keyOf(namespace, userKey);
    const known = this.host.cache.peek(key);
    if (known !== undefined && !known.present) return; // absent in LMDB, or its removal is pending
    this.host.markDirty(keyGroupOfTagged(key));
    this.host.cache.write(key, this, undefined, undefined, userKey === undefined ? undefined : this.baseKey(namespace));
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
      const batch = this.scan(after, prefixEnd(group), false, SCAN_BATCH, group);
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
      const batch = this.scan(after, prefixEnd(group), false, SCAN_BATCH, group);
      for (const item of batch.items) this.removeKey(item.key, group);
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
      const batch = this.scan(after, wrapped ? origin : undefined, wrapped, budget - visited, undefined);
      visited += batch.rows;
      for (const item of batch.items) {
        const value = item.entry !== undefined ? item.entry.value : this.decode(item.bytes!, item.key);
        if (expired(value)) {
          this.removeKey(item.key, undefined);
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
  private load(key: string): unknown {
    const found = this.db.getBinaryFast(lmdbKey(key));
    if (found === undefined) {
      this.host.cache.insertClean(key, this, false, undefined, 0);
      return undefined;
    }
    // getBinaryFast answers with a view of a shared 16 MB buffer whose own `length` property is
    // the value's: the subarray gives deserializers a byteLength they can trust.
    const bytes = found.subarray(0, found.length);
    const value = this.decode(bytes, key);
    this.host.cache.insertClean(key, this, true, value, bytes.length);
    return value;
  }

  private removeKey(key: string, group: string | undefined): void {
    this.host.markDirty(keyGroupOfTagged(key));
    this.host.cache.write(key, this, undefined, undefined, group);
  }

  /**
   * Up to `limit` LMDB rows with keys in (after, end) (or (after, end] with inclusiveEnd),
   * each replaced by its cache entry if it has one (skipped if that is a removal), plus the
   * pending writes of `group` that LMDB does not hold yet within the rows' span, in key order.
   */
  private scan(after: string | undefined, end: string | undefined, inclusiveEnd: boolean, limit: number, group: string | undefined): ScanBatch {
    const cache = this.host.cache;
    const items: ScanItem[] = [];
    let rows = 0;
    let lastRow: string | undefined;
    const range = this.db.getRange({
      start: after === undefined ? undefined : lmdbKeyCopy(after),
      exclusiveStart: true,
      end: end === undefined ? undefined : lmdbKeyCopy(end),
      inclusiveEnd,
      limit,
    });
    for (const { key: keyBytes, value } of range) {
      const key = taggedKey(this.tag, keyBytes);
      rows++;
      lastRow = key;
      const entry = cache.peek(key);
      if (entry === undefined) items.push({ key, entry: undefined, bytes: value });
      else if (entry.present) items.push({ key, entry, bytes: undefined });
    }
    const last = rows === limit ? lastRow : undefined;
    const pending = group === undefined ? undefined : cache.dirtyIn(group);
    if (pending !== undefined) {
      const spanEnd = last ?? end;
      const rowKeys = new Set(items.map((item) => item.key));
      let added = false;
      for (const entry of pending) {
        const k = entry.key;
        if (!entry.present || !entry.dirty || (after !== undefined && k <= after)) continue;
        if (spanEnd !== undefined && (k > spanEnd || (k === spanEnd && last === undefined && !inclusiveEnd))) continue;
        if (rowKeys.has(k)) continue; // LMDB holds it: the row above already took its entry
        items.push({ key: k, entry, bytes: undefined });
        added = true;
      }
      if (added) items.sort((a, b) => (a.key < b.key ? -1 : 1));
    }
    return { items, rows, last };
  }

  private decode(bytes: Uint8Array, key: string): unknown {
    try {
      return this.serializer.deserialize(bytes);
    } catch (cause) {
      throw this.failure('cannot read the stored value', key, cause);
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
      `state '${this.name}': the key of ${describeKey(lmdbKey(key))} takes ${key.length - 1} bytes, more than LMDB's ${MAX_LMDB_KEY_BYTES}`,
      { uid: this.host.ctx.uid, subtask: this.host.ctx.subtask },
    );
  }
}
