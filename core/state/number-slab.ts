// The write cache's compact store for the commonest state: a number per number key (a count, a sum, a last-seen time).
//
// In the general cache every key costs an entry object, a Map slot, its key string and its
// value: about 150 bytes (native-bench/state/entry-bytes.ts), so a 64 MB cache held about 400K
// keys and a subtask with 500K uniform keys read LMDB on most records. Here a key is a slot of
// an open-addressing table held in typed arrays: its number key, its number value, its key
// group and four flag bits, 19 bytes a slot at a load of 3/8 to 3/4; no object per key, so
// nothing for the garbage collector to trace or move. The LMDB key is made again from the
// number key and the key group when the slot is flushed.
//
// It holds Value state in the default namespace whose key is a number and whose value is a
// number; a table's other keys, and any key once its value is not a number, live in the
// general cache (the table keeps each key in one place). The flags mean what the general
// entries' flags mean: present (absent = LMDB has no value, or a removal is pending), dirty,
// and referenced (CLOCK's second chance). Linear probing; a removal shifts the run after it
// back (no tombstones), which moves slots, so callers that keep a slot check `epoch`.

/** Bytes charged against the cache budget per key held: 19 bytes a slot over a mean load of 1/2 (3/8 to 3/4). */
export const SLAB_ENTRY_BYTES = 38;
/** The table doubles before its load passes this. */
const MAX_LOAD = 0.75;
const INITIAL_SLOTS = 1024;

const USED = 1;
const PRESENT = 2;
const DIRTY = 4;
const REFERENCED = 8;
/** Written since the last checkpoint or flush (only ever with DIRTY): what the next checkpoint's overlay holds anew. */
const FRESH = 16;

const float = new Float64Array(1);
const words = new Uint32Array(float.buffer);

/** A 32-bit mix of a number key (never NaN; -0 is stored as 0): int32 keys skip the float split. */
function hashOf(key: number): number {
  let h: number;
  if ((key | 0) === key) {
    h = key;
  } else {
    float[0] = key;
    h = words[0]! ^ Math.imul(words[1]!, 0x9e3779b9);
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Number keys and their number values in columns (a checkpoint's overlay of a slab). */
export interface NumberColumns {
  readonly groups: Uint16Array;
  readonly keys: Float64Array;
  readonly values: Float64Array;
  readonly present: Uint8Array;
}

/** What the slab needs from the cache whose budget it shares. */
export interface SlabBudget {
  /** Frees room for `bytes` more before an insert (it may evict slots of this slab: find again after). */
  makeRoom(bytes: number): void;
  /** Adds to the bytes held and the dirty bytes, then flushes or evicts as the budget says. */
  charge(bytes: number, dirtyBytes: number): void;
}

export class NumberSlab {
  /** Bumped whenever slots move (a removal's shift, growth): a slot kept across calls is stale if it changed. */
  epoch = 0;
  live = 0;
  dirtyCount = 0;
  /** Dirty slots written since the last checkpoint or flush (FRESH). */
  freshCount = 0;
  evictions = 0;
  private mask: number;
  private keys: Float64Array;
  private values: Float64Array;
  private groups: Uint16Array;
  private flags: Uint8Array;
  private hand = 0;
  private readonly budget: SlabBudget;

  /** `slots`: the table's first size, a power of two. */
  constructor(budget: SlabBudget, slots = INITIAL_SLOTS) {
    if (!(slots >= 2 && (slots & (slots - 1)) === 0)) throw new RangeError(`slab slots must be a power of two, got ${slots}`);
    this.budget = budget;
    this.mask = slots - 1;
    this.keys = new Float64Array(slots);
    this.values = new Float64Array(slots);
    this.groups = new Uint16Array(slots);
    this.flags = new Uint8Array(slots);
  }

  /** Slots in the table (a power of two). */
  get capacity(): number {
    return this.mask + 1;
  }

  get bytes(): number {
    return this.live * SLAB_ENTRY_BYTES;
  }

  /** The slot holding `key`, or -1. */
  find(key: number): number {
    const flags = this.flags;
    const keys = this.keys;
    const mask = this.mask;
    for (let i = hashOf(key) & mask; ; i = (i + 1) & mask) {
      if (flags[i] === 0) return -1;
      if (keys[i] === key) return i;
    }
  }

  present(slot: number): boolean {
    return (this.flags[slot]! & PRESENT) !== 0;
  }

  dirty(slot: number): boolean {
    return (this.flags[slot]! & DIRTY) !== 0;
  }

  /** The value of a present slot; marks it used. */
  read(slot: number): number | undefined {
    const f = this.flags[slot]!;
    this.flags[slot] = f | REFERENCED;
    return (f & PRESENT) !== 0 ? this.values[slot]! : undefined;
  }

  /** A write (a number) or a removal (undefined) that LMDB sees at the next flush. */
  write(slot: number, value: number | undefined): void {
    const f = this.flags[slot]!;
    if (value === undefined) {
      this.flags[slot] = (f & ~PRESENT) | DIRTY | REFERENCED | FRESH;
    } else {
      this.values[slot] = value;
      this.flags[slot] = f | PRESENT | DIRTY | REFERENCED | FRESH;
    }
    if ((f & FRESH) === 0) this.freshCount++;
    if ((f & DIRTY) === 0) {
      this.dirtyCount++;
      this.budget.charge(0, SLAB_ENTRY_BYTES);
    }
  }

  /**
   * Adds a key this slab does not hold: what LMDB answered after a miss (clean, not yet
   * referenced, as the general cache does), or a first write (dirty). The slot is returned.
   */
  insert(key: number, keyGroup: number, value: number | undefined, dirty: boolean): number {
    this.budget.makeRoom(SLAB_ENTRY_BYTES);
    if (this.live + 1 > MAX_LOAD * (this.mask + 1)) this.grow();
    const slot = this.freeSlotFor(key);
    this.keys[slot] = key;
    this.values[slot] = value ?? 0;
    this.groups[slot] = keyGroup;
    this.flags[slot] = USED | (value === undefined ? 0 : PRESENT) | (dirty ? DIRTY | REFERENCED | FRESH : 0);
    this.live++;
    if (dirty) {
      this.dirtyCount++;
      this.freshCount++;
    }
    const epoch = this.epoch;
    this.budget.charge(SLAB_ENTRY_BYTES, dirty ? SLAB_ENTRY_BYTES : 0);
    // Room was made first, so the charge only flushes; should it have moved slots, find it again.
    return this.epoch === epoch ? slot : this.find(key);
  }

  /** Drops a slot whose key moves to the general cache, dirty or not: its charge goes with it. */
  remove(slot: number): void {
    const dirty = (this.flags[slot]! & DIRTY) !== 0;
    this.unlink(slot);
    this.budget.charge(-SLAB_ENTRY_BYTES, dirty ? -SLAB_ENTRY_BYTES : 0);
  }

  /**
   * Evicts clean slots by CLOCK until `bytes` are freed or three turns have passed (the first
   * clears every referenced bit, the others meet every clean slot); returns the bytes freed.
   * The caller adjusts the budget's count.
   */
  evict(bytes: number): number {
    let freed = 0;
    const flags = this.flags;
    for (let steps = 3 * (this.mask + 1); freed < bytes && steps > 0 && this.live > this.dirtyCount; steps--) {
      const i = this.hand;
      const f = flags[i]!;
      if ((f & USED) === 0 || (f & DIRTY) !== 0) {
        this.hand = (i + 1) & this.mask;
      } else if ((f & REFERENCED) !== 0) {
        flags[i] = f & ~REFERENCED;
        this.hand = (i + 1) & this.mask;
      } else {
        // The shift may move a slot from ahead into this one: the hand stays to look at it.
        this.unlink(i);
        this.evictions++;
        freed += SLAB_ENTRY_BYTES;
      }
    }
    return freed;
  }

  /** The dirty slots in LMDB key order: by key group, then by number (the encoding keeps numeric order). */
  dirtyInKeyOrder(): Int32Array {
    const flags = this.flags;
    const groups = this.groups;
    const n = this.dirtyCount;
    const dirty = new Int32Array(n);
    let count = 0;
    let low = 0xffff;
    let high = 0;
    for (let i = 0; i <= this.mask; i++) {
      if ((flags[i]! & DIRTY) === 0) continue;
      dirty[count++] = i;
      const g = groups[i]!;
      if (g < low) low = g;
      if (g > high) high = g;
    }
    if (count !== n) throw new Error(`internal error: the slab counts ${n} dirty slots and holds ${count}`);
    if (n === 0) return dirty;
    // Counting sort by key group, then each group's keys sorted as doubles and found again.
    const starts = new Int32Array(high - low + 2);
    for (let j = 0; j < n; j++) starts[groups[dirty[j]!]! - low + 1]!++;
    for (let g = 1; g < starts.length; g++) starts[g]! += starts[g - 1]!;
    const byGroup = new Int32Array(n);
    const next = starts.slice();
    for (let j = 0; j < n; j++) byGroup[next[groups[dirty[j]!]! - low]!++] = dirty[j]!;
    const keys = new Float64Array(n);
    for (let j = 0; j < n; j++) keys[j] = this.keys[byGroup[j]!]!;
    for (let g = 0; g + 1 < starts.length; g++) {
      const from = starts[g]!;
      const to = starts[g + 1]!;
      if (to - from > 1) keys.subarray(from, to).sort();
    }
    for (let j = 0; j < n; j++) byGroup[j] = this.find(keys[j]!);
    return byGroup;
  }

  key(slot: number): number {
    return this.keys[slot]!;
  }

  keyGroup(slot: number): number {
    return this.groups[slot]!;
  }

  /** After a flush wrote every dirty slot: they stay as clean ones (the cache clears its dirty bytes). */
  markClean(): void {
    if (this.dirtyCount === 0) return;
    const flags = this.flags;
    for (let i = 0; i <= this.mask; i++) flags[i]! &= ~(DIRTY | FRESH);
    this.dirtyCount = 0;
    this.freshCount = 0;
  }

  /** Every dirty slot, in columns, in slot order: its key group, key, value (0 where absent) and whether it is present (1) or a removal (0). */
  dirtyColumns(): NumberColumns {
    const n = this.dirtyCount;
    const out: NumberColumns = { groups: new Uint16Array(n), keys: new Float64Array(n), values: new Float64Array(n), present: new Uint8Array(n) };
    const flags = this.flags;
    let j = 0;
    for (let i = 0; i <= this.mask; i++) {
      const f = flags[i]!;
      if ((f & DIRTY) === 0) continue;
      out.groups[j] = this.groups[i]!;
      out.keys[j] = this.keys[i]!;
      out.values[j] = this.values[i]!;
      out.present[j++] = (f & PRESENT) !== 0 ? 1 : 0;
    }
    if (j !== n) throw new Error(`internal error: the slab counts ${n} dirty slots and holds ${j}`);
    return out;
  }

  /** A checkpoint holds every dirty slot as it is now: none is fresh after it. */
  markSeen(): void {
    if (this.freshCount === 0) return;
    const flags = this.flags;
    for (let i = 0; i <= this.mask; i++) flags[i]! &= ~FRESH;
    this.freshCount = 0;
  }

  /** An empty slot where `key` (not held) belongs. */
  private freeSlotFor(key: number): number {
    const flags = this.flags;
    const mask = this.mask;
    let i = hashOf(key) & mask;
    while (flags[i] !== 0) i = (i + 1) & mask;
    return i;
  }

  /** Empties a slot and shifts back the slots after it that probed past it, so that every key stays findable. */
  private unlink(slot: number): void {
    const flags = this.flags;
    const keys = this.keys;
    const mask = this.mask;
    if ((flags[slot]! & DIRTY) !== 0) this.dirtyCount--;
    if ((flags[slot]! & FRESH) !== 0) this.freshCount--;
    let hole = slot;
    for (let j = (slot + 1) & mask; flags[j] !== 0; j = (j + 1) & mask) {
      const home = hashOf(keys[j]!) & mask;
      // j's key may fill the hole unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inRange) continue;
      keys[hole] = keys[j]!;
      this.values[hole] = this.values[j]!;
      this.groups[hole] = this.groups[j]!;
      flags[hole] = flags[j]!;
      hole = j;
    }
    flags[hole] = 0;
    this.live--;
    this.epoch++;
  }

  private grow(): void {
    const { keys, values, groups, flags } = this;
    const size = 2 * (this.mask + 1);
    this.mask = size - 1;
    this.keys = new Float64Array(size);
    this.values = new Float64Array(size);
    this.groups = new Uint16Array(size);
    this.flags = new Uint8Array(size);
    for (let i = 0; i < flags.length; i++) {
      if (flags[i] === 0) continue;
      const slot = this.freeSlotFor(keys[i]!);
      this.keys[slot] = keys[i]!;
      this.values[slot] = values[i]!;
      this.groups[slot] = groups[i]!;
      this.flags[slot] = flags[i]!;
    }
    this.hand = 0;
    this.epoch++;
  }
}
