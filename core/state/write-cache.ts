// The write-back cache in front of LMDB: pending writes readable before commit, decoded hot values, bounded in bytes.
//
// lmdb-js queues a put() until its transaction commits and a get() does not see it, and a
// transaction per write is slow (MEASURED.md), so writes land here and reach LMDB in large
// sorted transactions. Every entry, dirty or clean, keeps its decoded value: values are
// immutable once written, so handing the same object out again is safe and a hot key
// costs one Map lookup. Clean entries (read from LMDB, or flushed) stay while there is room
// and are evicted by second chance (CLOCK over the Map's insertion order).

/** Bytes charged per entry beyond its key and value: the entry object, its Map slot and key string header. */
export const ENTRY_OVERHEAD = 128;
/** Dirty bytes may fill this share of the budget before a flush, so hot clean entries keep the rest. */
const DIRTY_SHARE = 0.5;
/** Eviction frees down to this share of the budget, so it runs once per many inserts, not per insert. */
const EVICT_TO = 15 / 16;

export interface CacheEntry<O> {
  /** Owner tag + key bytes as latin1: a Map key whose string order is the bytes' order. */
  readonly key: string;
  readonly owner: O;
  present: boolean;
  /** Decoded value (undefined when absent). */
  value: unknown;
  /** Serialized value, kept only while dirty and present: what the flush writes. */
  bytes: Uint8Array | undefined;
  size: number;
  dirty: boolean;
  referenced: boolean;
}

export interface CacheStats {
  readonly budget: number;
  readonly bytes: number;
  readonly entries: number;
  readonly dirtyBytes: number;
  readonly dirtyEntries: number;
  /** The most bytes held at the end of any operation. */
  readonly peakBytes: number;
  readonly flushes: number;
  readonly evictions: number;
  readonly hits: number;
  readonly misses: number;
}

/** Writes sorted dirty entries durably enough to be read back (one LMDB transaction). */
export type FlushWriter<O> = (sorted: readonly CacheEntry<O>[]) => void;

export class WriteCache<O> {
  readonly budget: number;
  private readonly map = new Map<string, CacheEntry<O>>();
  private dirty: CacheEntry<O>[] = [];
  /** Dirty entries by group (a MapState key+namespace prefix), so scans can merge them without a flush. */
  private dirtyGroups = new Map<string, CacheEntry<O>[]>();
  private bytes = 0;
  private dirtyBytes = 0;
  private peakBytes = 0;
  private flushes = 0;
  private evictions = 0;
  private hits = 0;
  private misses = 0;
  private readonly writer: FlushWriter<O>;

  constructor(budget: number, writer: FlushWriter<O>) {
    if (!(Number.isFinite(budget) && budget > 0)) throw new RangeError(`cacheBytes must be a positive number, got ${budget}`);
    this.budget = budget;
    this.writer = writer;
  }

  /** The entry for `key`, marked as recently used; undefined when LMDB must be asked. */
  lookup(key: string): CacheEntry<O> | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    entry.referenced = true;
    return entry;
  }

  /** The entry for `key` without touching its recency (scans must not make everything look hot). */
  peek(key: string): CacheEntry<O> | undefined {
    return this.map.get(key);
  }

  /** Remembers what LMDB holds for `key` (a value, or absence) after a miss. */
  insertClean(key: string, owner: O, present: boolean, value: unknown, valueBytes: number): void {
    const size = key.length + valueBytes + ENTRY_OVERHEAD;
    this.map.set(key, { key, owner, present, value, bytes: undefined, size, dirty: false, referenced: false });
    this.bytes += size;
    this.settle();
  }

  /** A put (`bytes` defined) or a removal (`bytes` undefined) that LMDB will see at the next flush. */
  write(key: string, owner: O, value: unknown, bytes: Uint8Array | undefined, group: string | undefined): void {
    const size = key.length + (bytes === undefined ? 0 : bytes.length) + ENTRY_OVERHEAD;
    let entry = this.map.get(key);
    if (entry === undefined) {
      entry = { key, owner, present: false, value: undefined, bytes: undefined, size: 0, dirty: false, referenced: true };
      this.map.set(key, entry);
    }
    if (!entry.dirty) {
      entry.dirty = true;
      this.dirty.push(entry);
      if (group !== undefined) {
        const members = this.dirtyGroups.get(group);
        if (members === undefined) this.dirtyGroups.set(group, [entry]);
        else members.push(entry);
      }
    } else {
      this.dirtyBytes -= entry.size;
    }
    this.bytes += size - entry.size;
    this.dirtyBytes += size;
    entry.size = size;
    entry.present = bytes !== undefined;
    entry.value = value;
    entry.bytes = bytes;
    this.settle();
  }

  /** Dirty entries of `group` (possibly removals), unsorted; valid until the next write or flush. */
  dirtyIn(group: string): readonly CacheEntry<O>[] | undefined {
    return this.dirtyGroups.get(group);
  }

  /** Writes every dirty entry, sorted by key, through the writer; they stay as clean entries. */
  flush(): void {
    if (this.dirty.length === 0) return;
    const sorted = this.dirty.sort(byKey);
    this.writer(sorted);
    // Only after the writer succeeded: a failed flush leaves every entry dirty and readable.
    for (const entry of sorted) {
      entry.dirty = false;
      entry.bytes = undefined;
    }
    this.dirty = [];
    this.dirtyGroups = new Map();
    this.dirtyBytes = 0;
    this.flushes++;
    this.settle();
  }

  stats(): CacheStats {
    return {
      budget: this.budget, bytes: this.bytes, entries: this.map.size, dirtyBytes: this.dirtyBytes,
      dirtyEntries: this.dirty.length, peakBytes: this.peakBytes, flushes: this.flushes,
      evictions: this.evictions, hits: this.hits, misses: this.misses,
    };
  }

  /** Restores the budget after an operation: flush when dirty bytes take their share, evict clean entries when full. */
  private settle(): void {
    if (this.dirtyBytes > this.budget * DIRTY_SHARE) this.flush(); // flush settles again
    else if (this.bytes > this.budget) this.evict();
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
  }

  private evict(): void {
    const target = this.budget * EVICT_TO;
    // Re-inserting a referenced or dirty entry moves it to the end of the Map's order, which
    // this loop may then visit again: by then it is unreferenced, so each entry costs at most
    // two visits, and dirty entries are at most DIRTY_SHARE of the bytes, so the loop ends.
    for (const [key, entry] of this.map) {
      if (this.bytes <= target) return;
      if (entry.dirty || entry.referenced) {
        entry.referenced = false;
        this.map.delete(key);
        this.map.set(key, entry);
        continue;
      }
      this.map.delete(key);
      this.bytes -= entry.size;
      this.evictions++;
    }
  }
}

function byKey(a: CacheEntry<unknown>, b: CacheEntry<unknown>): number {
  return a.key < b.key ? -1 : 1; // keys in the dirty list are distinct
}
