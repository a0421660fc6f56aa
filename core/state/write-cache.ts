// The write-back cache in front of LMDB: pending writes readable before commit, decoded hot values, bounded in bytes.
//
// lmdb-js queues a put() until its transaction commits and a get() does not see it, and a
// transaction per write is slow (MEASURED.md), so writes land here and reach LMDB in large
// sorted transactions. Every entry, dirty or clean, keeps its decoded value: values are
// immutable once written, so handing the same object out again is safe and a hot key costs
// one Map lookup. Clean entries (read from LMDB, or flushed) stay while there is room and
// are evicted by CLOCK (second chance) over a ring of all entries.
//
// The cache owns the entries' lifecycle and the budget; the tables own the Maps that find
// entries (a Map keyed by a cheap id is several times faster than one keyed by the fresh
// latin1 strings of the LMDB keys), and each entry records its Map and id so that eviction
// can unlink it.
//
// Number values under number keys (Value state in the default namespace) live in slabs
// (number-slab.ts) instead, about 40 bytes a key against 150 as an entry, so four times the
// keys fit the same budget; the slabs share the budget, are flushed in the same transaction
// and give up their share of each eviction.

import { NumberSlab } from './number-slab.ts';
import type { SlabBudget } from './number-slab.ts';

/**
 * Bytes charged per entry beyond its key and value chars: the entry object, its Map and ring
 * slots, its key string and decoded value; and, while dirty, for the serialized copy's
 * Uint8Array. Measured on Node 24 (heap growth per cached number key, after GC:
 * native-bench/state/entry-bytes.ts, 138.7 bytes beyond the key's chars and the value's), so
 * the budget is close to real heap use.
 */
export const ENTRY_OVERHEAD = 144;
export const SERIALIZED_OVERHEAD = 112;
/**
 * Marks a put whose value is serialized when it is flushed, not when it is written: a hot key
 * is then encoded once per flush instead of once per update (measured 0.29x -> 0.39x of the
 * heap backend on a Zipf running count). Its size is charged as an estimate until then.
 */
export const DEFERRED = new Uint8Array(0);
export const DEFERRED_VALUE_BYTES = 24;
/**
 * Dirty bytes may fill this share of the budget before a flush, so hot clean entries keep the
 * rest. Dirty entries are read as clean ones are, so a larger share costs no hits; it makes
 * flushes fewer (each key's latest value written once per flush) and longer. Against 0.5, on
 * one subtask's state work over 1M keys (BENCHMARKS.md, keyed state run E): 2 flushes instead
 * of 3 under Zipf and 8 instead of 14 under uniform keys, -13% and -7% CPU (measured at 0.8,
 * which flushes as often as 0.75 there); it stays below EVICT_TO, which eviction relies on.
 */
const DIRTY_SHARE = 0.75;
/** Eviction frees down to this share of the budget, so it runs once per many inserts, not per insert. */
const EVICT_TO = 15 / 16;

const PRESENT = 1;
const DIRTY = 2;
const REFERENCED = 4;
const LINKED = 8;
/** Written since the last checkpoint or flush (only ever with DIRTY). */
const FRESH = 16;
/** Above the five flags: which of the cache's index Maps finds the entry. */
const INDEX_SHIFT = 5;

/**
 * One cached key. Its five flags and the number of the Map that finds it share one small
 * integer: as booleans and a Map reference they took five of the object's fields, and an
 * entry is most of what a cache of small values holds (141 -> 109 bytes of heap per cached
 * number key, native-bench/state/entry-bytes.ts), so more keys fit the same budget.
 */
export class CacheEntry<O> {
  /** Owner tag + LMDB key bytes as latin1: string order is the bytes' order, so flushes sort by it. */
  readonly key: string;
  readonly owner: O;
  /** The entry's key in its index Map. */
  readonly id: unknown;
  /** Decoded value (undefined when absent). */
  value: unknown;
  /** Serialized value, kept only while dirty and present: what the flush writes. */
  bytes: Uint8Array | undefined;
  size: number;
  private flags: number;

  constructor(key: string, owner: O, id: unknown, indexNumber: number, present: boolean, value: unknown, size: number) {
    this.key = key;
    this.owner = owner;
    this.id = id;
    this.value = value;
    this.bytes = undefined;
    this.size = size;
    this.flags = (indexNumber << INDEX_SHIFT) | LINKED | (present ? PRESENT : 0);
  }

  get present(): boolean { return (this.flags & PRESENT) !== 0; }
  set present(on: boolean) { this.flags = on ? this.flags | PRESENT : this.flags & ~PRESENT; }
  get dirty(): boolean { return (this.flags & DIRTY) !== 0; }
  set dirty(on: boolean) { this.flags = on ? this.flags | DIRTY : this.flags & ~DIRTY; }
  /** Used since the clock hand last passed (CLOCK's second chance). */
  get referenced(): boolean { return (this.flags & REFERENCED) !== 0; }
  set referenced(on: boolean) { this.flags = on ? this.flags | REFERENCED : this.flags & ~REFERENCED; }
  /** False once evicted: an owner that kept a reference must look the key up again. */
  get linked(): boolean { return (this.flags & LINKED) !== 0; }
  /** Dirty, and written since the last checkpoint or flush. */
  get fresh(): boolean { return (this.flags & FRESH) !== 0; }
  set fresh(on: boolean) { this.flags = on ? this.flags | FRESH : this.flags & ~FRESH; }
  unlink(): void { this.flags &= ~LINKED; }
  get indexNumber(): number { return this.flags >>> INDEX_SHIFT; }
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

/** Writes sorted dirty entries so that LMDB reads see them (one write transaction). */
export type FlushWriter<O> = (sorted: readonly CacheEntry<O>[]) => void;

export class WriteCache<O> implements SlabBudget {
  readonly budget: number;
  /** Counted by the owners, which do the lookups. */
  hits = 0;
  misses = 0;
  private readonly ring: CacheEntry<O>[] = [];
  /** Every index Map an entry has been linked into, numbered in the entries' flags. */
  private readonly indexes: Map<unknown, CacheEntry<O>>[] = [];
  private readonly indexNumbers = new Map<Map<unknown, CacheEntry<O>>, number>();
  private hand = 0;
  private dirty: CacheEntry<O>[] = [];
  /** Dirty entries by group (a MapState key+namespace prefix), so scans can merge them without a flush. */
  private dirtyGroups = new Map<string, CacheEntry<O>[]>();
  private bytes = 0;
  private dirtyBytes = 0;
  private peakBytes = 0;
  private flushes = 0;
  private held = false;
  private freshCount = 0;
  private evictions = 0;
  private readonly writer: FlushWriter<O>;
  /** The compact stores sharing the budget; the writer flushes their dirty slots with the entries. */
  private readonly slabs: NumberSlab[] = [];

  constructor(budget: number, writer: FlushWriter<O>) {
    if (!(Number.isFinite(budget) && budget > 0)) throw new RangeError(`cacheBytes must be a positive number, got ${budget}`);
    this.budget = budget;
    this.writer = writer;
  }

  /** Adds what LMDB holds for a key (a value, or absence) after a miss. */
  remember(index: Map<unknown, CacheEntry<O>>, id: unknown, key: string, owner: O, present: boolean, value: unknown, valueBytes: number): CacheEntry<O> {
    // Room is made first, so that the eviction cannot pick the entry the caller is about to use.
    const size = key.length + valueBytes + ENTRY_OVERHEAD;
    if (this.bytes + size > this.budget) this.evict(this.budget * EVICT_TO - size);
    const entry = this.link(index, id, key, owner, present, value, valueBytes);
    this.settle();
    return entry;
  }

  /** A compact store for number values of number keys, charged against this budget. */
  newSlab(): NumberSlab {
    const slab = new NumberSlab(this);
    this.slabs.push(slab);
    return slab;
  }

  makeRoom(bytes: number): void {
    if (this.bytes + bytes > this.budget) this.evict(this.budget * EVICT_TO - bytes);
  }

  charge(bytes: number, dirtyBytes: number): void {
    this.bytes += bytes;
    this.dirtyBytes += dirtyBytes;
    this.settle();
  }

  /** An absent, clean entry for a key the owner is about to write without having read it. */
  create(index: Map<unknown, CacheEntry<O>>, id: unknown, key: string, owner: O): CacheEntry<O> {
    return this.link(index, id, key, owner, false, undefined, 0);
  }

  /** A put (`bytes` defined) or a removal (`bytes` undefined) that LMDB will see at the next flush. */
  write(entry: CacheEntry<O>, value: unknown, bytes: Uint8Array | undefined, group: string | undefined): void {
    // An evicted entry is in no index: a write to it would be invisible to reads until flushed.
    if (!entry.linked) throw new Error('internal error: write to an evicted cache entry');
    const size = entry.key.length + ENTRY_OVERHEAD
      + (bytes === undefined ? 0 : bytes === DEFERRED ? DEFERRED_VALUE_BYTES : bytes.length + SERIALIZED_OVERHEAD);
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
    if (!entry.fresh) {
      entry.fresh = true;
      this.freshCount++;
    }
    this.bytes += size - entry.size;
    this.dirtyBytes += size;
    entry.size = size;
    entry.present = bytes !== undefined;
    entry.value = value;
    entry.bytes = bytes;
    entry.referenced = true;
    this.settle();
  }

  /** Every dirty entry (removals too), unsorted; valid until the next write or flush. */
  dirtyEntries(): readonly CacheEntry<O>[] {
    return this.dirty;
  }

  /** Dirty entries and slots, and how many of them were written since the last checkpoint or flush. */
  freshness(): { dirty: number; fresh: number } {
    let dirty = this.dirty.length;
    let fresh = this.freshCount;
    for (const slab of this.slabs) {
      dirty += slab.dirtyCount;
      fresh += slab.freshCount;
    }
    return { dirty, fresh };
  }

  /** A checkpoint took every dirty entry as it is now (its overlay): none is fresh after it. */
  markSeen(): void {
    for (const entry of this.dirty) entry.fresh = false;
    this.freshCount = 0;
    for (const slab of this.slabs) slab.markSeen();
  }

  /** Dirty entries of `group` (removals too), unsorted; valid until the next write or flush. */
  dirtyIn(group: string): readonly CacheEntry<O>[] | undefined {
    return this.dirtyGroups.get(group);
  }

  /**
   * While held, nothing is written through (dirty entries may outgrow their share of the
   * budget): a copy of the environment is being taken and no commit may land in it.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.settle();
  }

  /** Writes every dirty entry, sorted by key, through the writer; they stay as clean entries. */
  flush(): void {
    if (this.held || (this.dirty.length === 0 && !this.slabs.some((s) => s.dirtyCount > 0))) return;
    const sorted = sortByKey(this.dirty);
    this.writer(sorted);
    for (const slab of this.slabs) slab.markClean();
    // Only after the writer succeeded: a failed flush leaves every entry dirty and readable.
    for (const entry of sorted) {
      entry.dirty = false;
      entry.fresh = false;
      if (entry.bytes === DEFERRED) {
        entry.bytes = undefined;
      } else if (entry.bytes !== undefined) {
        entry.bytes = undefined;
        entry.size -= SERIALIZED_OVERHEAD; // the value's length stays charged, for its decoded form
        this.bytes -= SERIALIZED_OVERHEAD;
      }
    }
    this.dirty = [];
    this.dirtyGroups = new Map();
    this.dirtyBytes = 0;
    this.freshCount = 0;
    this.flushes++;
    this.settle();
  }

  stats(): CacheStats {
    let entries = this.ring.length;
    let dirtyEntries = this.dirty.length;
    let evictions = this.evictions;
    for (const slab of this.slabs) {
      entries += slab.live;
      dirtyEntries += slab.dirtyCount;
      evictions += slab.evictions;
    }
    return {
      budget: this.budget, bytes: this.bytes, entries, dirtyBytes: this.dirtyBytes,
      dirtyEntries, peakBytes: this.peakBytes, flushes: this.flushes, evictions, hits: this.hits, misses: this.misses,
    };
  }

  private link(index: Map<unknown, CacheEntry<O>>, id: unknown, key: string, owner: O, present: boolean, value: unknown, valueBytes: number): CacheEntry<O> {
    const size = key.length + valueBytes + ENTRY_OVERHEAD;
    let indexNumber = this.indexNumbers.get(index);
    if (indexNumber === undefined) {
      indexNumber = this.indexes.push(index) - 1;
      this.indexNumbers.set(index, indexNumber);
    }
    // Not referenced yet: a key read once (a scan-like pattern) should not push out hot ones.
    const entry = new CacheEntry(key, owner, id, indexNumber, present, value, size);
    index.set(id, entry);
    this.ring.push(entry);
    this.bytes += size;
    return entry;
  }

  /** Restores the budget after an operation: flush when dirty bytes take their share, evict clean entries when full. */
  private settle(): void {
    if (this.dirtyBytes > this.budget * DIRTY_SHARE && !this.held) this.flush(); // flush settles again
    else if (this.bytes > this.budget) this.evict(this.budget * EVICT_TO);
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
  }

  private evict(target: number): void {
    // The slabs give up their share of what must go, the entries the rest, the slabs what is left.
    const held = this.bytes;
    for (const slab of this.slabs) if (slab.bytes > 0) this.bytes -= slab.evict((held - target) * (slab.bytes / held));
    this.evictEntries(target);
    for (const slab of this.slabs) if (this.bytes > target) this.bytes -= slab.evict(this.bytes - target);
  }

  private evictEntries(target: number): void {
    const ring = this.ring;
    // Three turns of the clock at most: the first clears every referenced bit, the others meet
    // every clean entry. Dirty entries hold at most DIRTY_SHARE < EVICT_TO of the budget, so
    // the target is met before that unless one entry is larger than the whole budget.
    for (let steps = 3 * ring.length; this.bytes > target && steps > 0; steps--) {
      if (this.hand >= ring.length) this.hand = 0;
      const entry = ring[this.hand]!;
      if (entry.dirty || entry.referenced) {
        entry.referenced = false;
        this.hand++;
        continue;
      }
      this.indexes[entry.indexNumber]!.delete(entry.id);
      entry.unlink();
      // The last (newest) entry takes the evicted one's slot, and the hand moves past it so
      // that it, too, gets a whole turn of the clock to be used before it can be evicted.
      const last = ring.pop()!;
      if (last !== entry) ring[this.hand++] = last;
      this.bytes -= entry.size;
      this.evictions++;
    }
  }
}

/** Below this many entries a comparison sort is cheaper than the radix passes' 64K-slot counts. */
export const RADIX_MIN = 4096;
/** The radix passes order by a key's first 11 chars: the tag (16 bits) and 10 bytes, as six 16-bit digits. */
const DIGITS = 6;

/**
 * The entries in key order (string order of `key`, which is the LMDB bytes' order). The
 * order only makes the flush fast (LMDB inserts in key order touch each page once), so it
 * must be cheap: a comparison sort called a comparator a few million times per flush of
 * ~150K entries (0.25 s in one subtask of the state bench's Zipf job, about as long as LMDB
 * took for the puts).
 * Large flushes are sorted by LSD radix over the keys' first 11 chars (the tag, then bytes:
 * six 16-bit digits, a pass skipped where every entry has the same digit), and only runs that
 * tie on all of them are compared as strings: keys sharing a long prefix (map state under one
 * key), and keys that end early (a missing char counts as a 0 char).
 */
export function sortByKey<O>(entries: readonly CacheEntry<O>[]): CacheEntry<O>[] {
  const n = entries.length;
  if (n < RADIX_MIN) return comparisonSort(entries);
  const digits = new Uint16Array(n * DIGITS);
  for (let i = 0; i < n; i++) {
    const k = entries[i]!.key;
    const at = i * DIGITS;
    digits[at] = k.charCodeAt(0); // the tag: below MAX_TABLES
    for (let d = 1; d < DIGITS; d++) {
      const c = 2 * d - 1; // chars 1-2, 3-4, ..., 9-10: bytes
      digits[at + d] = ((k.charCodeAt(c) || 0) << 8) | (k.charCodeAt(c + 1) || 0);
    }
  }
  let order = new Int32Array(n);
  let next = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const counts = new Int32Array(65537);
  // Least significant digit first; each pass is stable, so earlier passes break later ties.
  for (let d = DIGITS - 1; d >= 0; d--) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[digits[i * DIGITS + d]! + 1]!++;
    if (counts[digits[d]! + 1] === n) continue; // every entry has this digit
    for (let v = 1; v <= 65536; v++) counts[v]! += counts[v - 1]!;
    for (let i = 0; i < n; i++) {
      const e = order[i]!;
      next[counts[digits[e * DIGITS + d]!]!++] = e;
    }
    const t = order;
    order = next;
    next = t;
  }
  const out = new Array<CacheEntry<O>>(n);
  for (let i = 0; i < n; i++) out[i] = entries[order[i]!]!;
  // Runs equal on every digit are ordered by the rest of their keys (and by length: a
  // missing char and a 0 char have the same digit).
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && sameDigits(digits, order[i]!, order[j]!)) j++;
    if (j - i > 1) {
      const run = out.slice(i, j).sort(byKey);
      for (let r = 0; r < run.length; r++) out[i + r] = run[r]!;
    }
    i = j;
  }
  return out;
}

function sameDigits(digits: Uint16Array, a: number, b: number): boolean {
  for (let d = 0; d < DIGITS; d++) if (digits[a * DIGITS + d] !== digits[b * DIGITS + d]) return false;
  return true;
}

const byKey = <O>(a: CacheEntry<O>, b: CacheEntry<O>): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * A small flush: comparison sort, with the first 11 chars of each key packed into two exact
 * doubles so that most comparisons are numeric (V8 compares strings out of line).
 */
function comparisonSort<O>(entries: readonly CacheEntry<O>[]): CacheEntry<O>[] {
  const n = entries.length;
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = entries[i]!.key;
    let h = k.charCodeAt(0); // 16 + 4 * 8 = 48 bits
    for (let c = 1; c <= 4; c++) h = h * 256 + (k.charCodeAt(c) || 0);
    let l = 0; // 6 * 8 = 48 bits
    for (let c = 5; c <= 10; c++) l = l * 256 + (k.charCodeAt(c) || 0);
    high[i] = h;
    low[i] = l;
    order.push(i);
  }
  order.sort((a, b) => high[a]! - high[b]! || low[a]! - low[b]! || byKey(entries[a]!, entries[b]!));
  return order.map((i) => entries[i]!);
}
