// Timers per key: one per (key, timestamp) and time domain, fired in timestamp order; timers are keyed state.
import type { Key } from '../keys/encoding.ts';
import { keyId } from '../keys/key-id.ts';

export interface Timer {
  readonly timestamp: number;
  readonly key: Key;
  readonly keyGroup: number;
  /** What the timer is for within its key ('' for a process function's; a window's id for a window operator's). */
  readonly namespace: string;
  readonly id: string;
  readonly seq: number;
}

/** A timer in a snapshot: timestamp, key, key group and, for a window's, its namespace. */
export type TimerRow = [number, Key, number] | [number, Key, number, string];

function before(a: Timer, b: Timer): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
}

/**
 * A binary min-heap of timers with a map from (key group, key, timestamp) to the live
 * timer, so a second registration is a no-op and a deletion is lazy (the heap entry is
 * skipped when it surfaces). Timers are held on the heap for both state backends, as
 * Flink's heap timer service does; they belong to their key group for snapshots.
 */
export class TimerQueue {
  private readonly heap: Timer[] = [];
  private readonly live = new Map<string, Timer>();
  private seq = 0;

  private static id(timestamp: number, key: Key, keyGroup: number, namespace: string): string {
    const k = keyId(key);
    return `${keyGroup}|${typeof k}|${String(k)}|${timestamp}|${namespace}`;
  }

  register(timestamp: number, key: Key, keyGroup: number, namespace = ''): void {
    const id = TimerQueue.id(timestamp, key, keyGroup, namespace);
    if (this.live.has(id)) return;
    const t: Timer = { timestamp, key, keyGroup, namespace, id, seq: this.seq++ };
    this.live.set(id, t);
    this.push(t);
  }

  delete(timestamp: number, key: Key, keyGroup: number, namespace = ''): void {
    this.live.delete(TimerQueue.id(timestamp, key, keyGroup, namespace));
  }

  get size(): number {
    return this.live.size;
  }

  /** The live timers in firing order, as plain data: a checkpoint's copy (the namespace only where there is one). */
  snapshot(): TimerRow[] {
    return [...this.live.values()].sort((a, b) => (before(a, b) ? -1 : 1))
      .map((t) => (t.namespace === '' ? [t.timestamp, t.key, t.keyGroup] : [t.timestamp, t.key, t.keyGroup, t.namespace]));
  }

  /** Registers the timers of a snapshot whose key group `owns` says is this subtask's, in their order. */
  restore(timers: readonly TimerRow[], owns: (keyGroup: number) => boolean): void {
    for (const [ts, key, kg, ns] of timers) if (owns(kg)) this.register(ts, key, kg, ns ?? '');
  }

  /** The earliest live timestamp, or Infinity. */
  nextTimestamp(): number {
    this.dropDead();
    return this.heap.length > 0 ? this.heap[0]!.timestamp : Infinity;
  }

  /** Fires, in order, every timer at or before `time`, including ones registered while firing. */
  fireUpTo(time: number, fire: (t: Timer) => void): number {
    let n = 0;
    for (;;) {
      this.dropDead();
      const top = this.heap[0];
      if (top === undefined || top.timestamp > time) return n;
      this.pop();
      this.live.delete(top.id);
      fire(top);
      n++;
    }
  }

  private dropDead(): void {
    while (this.heap.length > 0 && this.live.get(this.heap[0]!.id) !== this.heap[0]) this.pop();
  }

  private push(t: Timer): void {
    const h = this.heap;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
