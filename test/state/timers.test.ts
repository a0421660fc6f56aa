// The timer queue against a model: random interleavings of registrations, deletions, firings and snapshots.
import test from 'ava';
import fc from 'fast-check';
import { TimerQueue } from '../../core/state/timers.ts';
import type { Timer, TimerRow } from '../../core/state/timers.ts';
import type { Key } from '../../core/keys/encoding.ts';

type Op =
  | { op: 'register' | 'delete'; ts: number; key: Key; ns: string }
  | { op: 'fire'; upTo: number }
  | { op: 'snapshot' };

/** The model: a list of live timers in registration order; firing takes the least (timestamp, registration) first. */
class Model {
  live: { ts: number; key: string; raw: Key; ns: string; seq: number }[] = [];
  seq = 0;
  id = (key: Key) => JSON.stringify(key);
  register(ts: number, key: Key, ns: string) {
    if (!this.live.some((t) => t.ts === ts && t.key === this.id(key) && t.ns === ns)) this.live.push({ ts, key: this.id(key), raw: key, ns, seq: this.seq++ });
  }
  delete(ts: number, key: Key, ns: string) {
    this.live = this.live.filter((t) => !(t.ts === ts && t.key === this.id(key) && t.ns === ns));
  }
  ordered() { return [...this.live].sort((a, b) => a.ts - b.ts || a.seq - b.seq); }
  fire(upTo: number, onFire: (t: { ts: number; raw: Key; ns: string }) => void) {
    for (;;) {
      const next = this.ordered()[0];
      if (next === undefined || next.ts > upTo) return;
      this.live = this.live.filter((t) => t !== next);
      onFire(next);
    }
  }
}

const key = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom('a', 'b'), fc.constant([1, 'x']));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constantFrom('register' as const), ts: fc.integer({ min: 0, max: 30 }), key, ns: fc.constantFrom('', '0:10', '10:20') }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('delete' as const), ts: fc.integer({ min: 0, max: 30 }), key, ns: fc.constantFrom('', '0:10', '10:20') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('fire' as const), upTo: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'snapshot' as const }) },
);

const rowOf = (t: { ts: number; raw: Key; ns: string }): TimerRow => (t.ns === '' ? [t.ts, t.raw, 0] : [t.ts, t.raw, 0, t.ns]);

test('the timer queue fires, deletes, deduplicates and snapshots as the model does, in any interleaving', (t) => {
  fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
    const q = new TimerQueue();
    const m = new Model();
    for (const o of ops) {
      if (o.op === 'register') { q.register(o.ts, o.key, 0, o.ns); m.register(o.ts, o.key, o.ns); } else if (o.op === 'delete') {
        q.delete(o.ts, o.key, 0, o.ns); m.delete(o.ts, o.key, o.ns);
      } else if (o.op === 'fire') {
        const got: TimerRow[] = [];
        const want: TimerRow[] = [];
        // A firing timer registers a later one for its key, as a process function's onTimer may.
        q.fireUpTo(o.upTo, (f: Timer) => { got.push(rowOf({ ts: f.timestamp, raw: f.key, ns: f.namespace })); q.register(f.timestamp + 7, f.key, 0, f.namespace); });
        m.fire(o.upTo, (f) => { want.push(rowOf(f)); m.register(f.ts + 7, f.raw, f.ns); });
        if (JSON.stringify(got) !== JSON.stringify(want)) return false;
      } else if (JSON.stringify(q.snapshot()) !== JSON.stringify(m.ordered().map(rowOf))) return false;
      if (q.size !== m.live.length || q.nextTimestamp() !== (m.ordered()[0]?.ts ?? Infinity)) return false;
    }
    return true;
  }), { numRuns: 300 });
  t.pass();
});

test('a timer moved with every event (a session window) keeps the heap near its live timers, and fires once', (t) => {
  const q = new TimerQueue();
  for (let i = 0; i < 20_000; i++) {
    const k = i % 10;
    if (i >= 10) q.delete(i - 10 + 1000, k, 0, 'w');
    q.register(i + 1000, k, 0, 'w');
  }
  t.is(q.size, 10);
  t.true((q as unknown as { heap: unknown[] }).heap.length <= 3 * 1024, 'dead entries are compacted');
  const fired: number[] = [];
  q.fireUpTo(Infinity, (f) => fired.push(f.timestamp));
  t.deepEqual(fired, Array.from({ length: 10 }, (_, j) => 19_990 + j + 1000));
  t.is(q.nextTimestamp(), Infinity);
});

test('one key with thousands of timers (an interval join buffering per element) registers, deletes and fires them in order', (t) => {
  const q = new TimerQueue();
  const N = 5000;
  // Registered out of order, each twice (the second a no-op); every third deleted.
  for (let i = 0; i < N; i++) q.register((i * 7919) % N, 'hot', 3);
  for (let i = 0; i < N; i++) q.register(i, 'hot', 3);
  for (let i = 0; i < N; i += 3) q.delete(i, 'hot', 3);
  t.is(q.size, N - Math.ceil(N / 3));
  const fired: number[] = [];
  q.fireUpTo(N / 2, (f) => fired.push(f.timestamp));
  t.deepEqual(fired, Array.from({ length: N / 2 + 1 }, (_, i) => i).filter((i) => i % 3 !== 0));
  t.deepEqual(q.snapshot().map((r) => r[0]), Array.from({ length: N }, (_, i) => i).filter((i) => i > N / 2 && i % 3 !== 0));
});
