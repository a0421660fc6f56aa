// The write cache's number slab on its own, against a model: every key findable through inserts, writes, removals,
// evictions, growth and flushes in any interleaving; dirty slots in LMDB key order; the budget's counts.

import test from 'ava';
import fc from 'fast-check';
import { NumberSlab, SLAB_ENTRY_BYTES } from '../../core/state/number-slab.ts';
import type { SlabBudget } from '../../core/state/number-slab.ts';
import { numberStateKey } from '../../core/state/lmdb-keys.ts';

/** A budget that only counts, and evicts when asked to make room past its limit, as the cache does. */
class CountingBudget implements SlabBudget {
  bytes = 0;
  dirtyBytes = 0;
  slab!: NumberSlab;
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  makeRoom(bytes: number): void {
    if (this.bytes + bytes > this.limit) this.bytes -= this.slab.evict(this.bytes + bytes - this.limit);
  }
  charge(bytes: number, dirtyBytes: number): void {
    this.bytes += bytes;
    this.dirtyBytes += dirtyBytes;
  }
}

interface Model { value: number | undefined; dirty: boolean }

type Op =
  | { op: 'read' | 'write' | 'remove' | 'move'; key: number; value: number }
  | { op: 'flush' }
  | { op: 'evict'; bytes: number };

// Keys that collide in a small table (many share a home slot after the mask), floats and -0 included.
const key = fc.oneof(
  { arbitrary: fc.integer({ min: -50, max: 400 }), weight: 6 },
  { arbitrary: fc.constantFrom(0.5, -1.25, 2 ** 40, -(2 ** 53), Number.MAX_VALUE, Infinity, -Infinity, 1e-300), weight: 1 },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('read' as const), key, value: fc.constant(0) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('write' as const), key, value: fc.double({ noNaN: true }) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), key, value: fc.constant(0) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('move' as const), key, value: fc.constant(0) }), weight: 1 },
  { arbitrary: fc.constant({ op: 'flush' as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('evict' as const), bytes: fc.integer({ min: 1, max: 40 * SLAB_ENTRY_BYTES }) }), weight: 1 },
);

test('every key stays findable with its value and flags through any interleaving of operations', (t) => {
  let evictions = 0;
  let grew = 0;
  fc.assert(fc.property(fc.array(op, { minLength: 20, maxLength: 2500 }), fc.integer({ min: 8, max: 600 }), (ops, limitEntries) => {
    const budget = new CountingBudget(limitEntries * SLAB_ENTRY_BYTES);
    const slab = new NumberSlab(budget, 8); // small, so that it grows and its probe runs wrap around
    budget.slab = slab;
    const model = new Map<number, Model>(); // what the slab holds; evicted keys leave it (LMDB would answer for them)
    let flushed = new Map<number, number | undefined>(); // what LMDB holds
    const forgetEvicted = () => {
      for (const [k, m] of model) if (!m.dirty && slab.find(k) < 0) model.delete(k);
    };
    for (const o of ops) {
      if (o.op === 'flush') {
        const order = slab.dirtyInKeyOrder();
        const expected = [...model].filter(([, m]) => m.dirty).map(([k]) => k);
        t.is(order.length, expected.length);
        const keys = [...order].map((s) => slab.key(s));
        t.deepEqual([...keys].sort((a, b) => a - b), expected.sort((a, b) => a - b));
        // LMDB key order: compare the stored keys' bytes.
        for (let i = 1; i < order.length; i++) {
          const a = Buffer.from(numberStateKey(slab.keyGroup(order[i - 1]!), slab.key(order[i - 1]!)));
          const b = numberStateKey(slab.keyGroup(order[i]!), slab.key(order[i]!));
          t.true(Buffer.compare(a, b) < 0);
        }
        for (const s of order) flushed.set(slab.key(s), slab.present(s) ? slab.read(s) : undefined);
        slab.markClean();
        budget.dirtyBytes = 0;
        for (const m of model.values()) m.dirty = false;
        continue;
      }
      if (o.op === 'evict') {
        const before = slab.live;
        budget.bytes -= slab.evict(o.bytes);
        evictions += before - slab.live;
        forgetEvicted();
        continue;
      }
      const k = o.key + 0; // keys are keyIds: never -0
      let slot = slab.find(k);
      const m = model.get(k);
      t.is(slot >= 0, m !== undefined, `key ${k} held`);
      if (o.op === 'read') {
        if (slot < 0) {
          // A miss: LMDB's answer is remembered, clean.
          const evicted = slab.evictions;
          slot = slab.insert(k, groupOf(k), flushed.get(k), false);
          if (slab.evictions > evicted) forgetEvicted(); // makeRoom evicted
          model.set(k, { value: flushed.get(k), dirty: false });
        }
        t.is(slab.read(slot), model.get(k)!.value);
      } else if (o.op === 'write' || o.op === 'remove') {
        const value = o.op === 'write' ? o.value : undefined;
        if (slot >= 0) slab.write(slot, value);
        else {
          const capacity = slab.capacity;
          const evicted = slab.evictions;
          slab.insert(k, groupOf(k), value, true);
          if (slab.capacity > capacity) grew++;
          if (slab.evictions > evicted) forgetEvicted();
        }
        model.set(k, { value, dirty: true });
      } else if (slot >= 0) {
        slab.remove(slot); // the key moves to the general cache: the slab forgets it, dirty or not
        if (m!.dirty) flushed.set(k, m!.value); // (the general cache would flush it)
        model.delete(k);
      }
      // Invariants after every operation.
      t.is(slab.live, model.size);
      t.is(slab.dirtyCount, [...model.values()].filter((x) => x.dirty).length);
      t.is(slab.bytes, slab.live * SLAB_ENTRY_BYTES);
      t.is(budget.bytes, slab.bytes, 'the budget was charged for what the slab holds');
      t.is(budget.dirtyBytes, slab.dirtyCount * SLAB_ENTRY_BYTES);
    }
    for (const [k, m] of model) {
      const s = slab.find(k);
      t.true(s >= 0);
      t.is(slab.present(s), m.value !== undefined);
      t.is(slab.dirty(s), m.dirty);
      if (m.value !== undefined) t.is(slab.read(s), m.value);
    }
    flushed = new Map();
  }), { numRuns: 150 });
  t.true(evictions > 100, `${evictions} evictions`);
  t.true(grew > 10, `${grew} growths`);
});

test('eviction takes clean slots only, cold before referenced, and never a dirty one', (t) => {
  const budget = new CountingBudget(1e9);
  const slab = new NumberSlab(budget);
  budget.slab = slab;
  for (let k = 0; k < 1000; k++) slab.insert(k, groupOf(k), k, k % 10 === 0); // every tenth dirty
  for (let k = 1; k < 1000; k += 2) slab.read(slab.find(k)); // odd keys referenced
  const freed = slab.evict(400 * SLAB_ENTRY_BYTES);
  t.is(freed, 400 * SLAB_ENTRY_BYTES);
  for (let k = 0; k < 1000; k += 10) t.true(slab.find(k) >= 0, `dirty ${k} kept`);
  let oddKept = 0;
  for (let k = 1; k < 1000; k += 2) if (slab.find(k) >= 0) oddKept++;
  t.is(oddKept, 500, 'the 450 cold clean keys went before any referenced one');
  // Three turns of the clock: the rest of the clean keys can go, the dirty ones cannot.
  t.is(slab.evict(1e9), (1000 - 100 - 400) * SLAB_ENTRY_BYTES);
  t.is(slab.live, 100);
  t.is(slab.dirtyCount, 100);
});

function groupOf(k: number): number {
  return Math.abs(Math.trunc(k * 7)) % 128;
}
