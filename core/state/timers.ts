// Timers per key: one per (key, timestamp, namespace) and time domain, fired in timestamp order; timers are keyed state.
import type { Key } from '../keys/encoding.ts';
import { keyId } from '../keys/key-id.ts';
import type { KeyId } from '../keys/key-id.ts';

export interface Timer {
  readonly timestamp: number;
  readonly key: Key;
  readonly keyGroup: number;
  /** What the timer is for within its key ('' for a process function's; a window's id for a window operator's). */
  readonly namespace: string;
}

/** A timer in a snapshot: timestamp, key, key group and, for a window's, its namespace. */
export type TimerRow = [number, Key, number] | [number, Key, number, string];

/** A queued timer: its registration order breaks ties of timestamps; `dead` once deleted or fired. */
interface Entry extends Timer {
  readonly seq: number;
  dead: boolean;
}

function before(a: Entry, b: Entry): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
}

/** A key's live timers: a short list, or (past SMALL of them) lists by timestamp. */
type KeyTimers = Entry[] | Map<number, Entry[]>;
const SMALL = 8;

/**
 * A binary min-heap of timers and, per key, its live timers (a short list: a process
 * function's one or two, a window's per live window; by timestamp once a key has more, as an
 * interval join's key with a timer per buffered element), so a second registration is a
 * no-op and a deletion marks the heap entry dead, to be skipped when it surfaces. Keys are
 * found by their id (primitives are their own), not by a string made per call; when dead
 * entries outnumber live ones the heap is rebuilt, so a session window moving its timer with
 * every event keeps the heap at the size of its live timers. Timers are held on the heap for
 * both state backends, as Flink's heap timer service does; they belong to their key group
 * for snapshots.
 */
export class TimerQueue {
  private heap: Entry[] = [];
  private readonly byKey = new Map<KeyId, KeyTimers>();
  private live = 0;
  private seq = 0;

  private static find(timers: KeyTimers | undefined, timestamp: number, namespace: string): Entry | undefined {
    if (timers === undefined) return undefined;
    const list = Array.isArray(timers) ? timers : timers.get(timestamp);
    if (list !== undefined) for (const t of list) if (t.timestamp === timestamp && t.namespace === namespace) return t;
    return undefined;
  }

  private static file(m: Map<number, Entry[]>, t: Entry): void {
    const list = m.get(t.timestamp);
    if (list === undefined) m.set(t.timestamp, [t]);
    else list.push(t);
  }

  register(timestamp: number, key: Key, keyGroup: number, namespace = ''): void {
    const id = keyId(key);
    const timers = this.byKey.get(id);
    if (TimerQueue.find(timers, timestamp, namespace) !== undefined) return;
    const t: Entry = { timestamp, key, keyGroup, namespace, seq: this.seq++, dead: false };
    if (timers === undefined) this.byKey.set(id, [t]);
    else if (!Array.isArray(timers)) TimerQueue.file(timers, t);
    else if (timers.length < SMALL) timers.push(t);
    else {
      const m = new Map<number, Entry[]>();
      for (const e of timers) TimerQueue.file(m, e);
      TimerQueue.file(m, t);
      this.byKey.set(id, m);
    }
    this.live++;
    this.push(t);
  }

  delete(timestamp: number, key: Key, _keyGroup: number, namespace = ''): void {
    const id = keyId(key);
    const timers = this.byKey.get(id);
    const t = TimerQueue.find(timers, timestamp, namespace);
    if (t === undefined) return;
    this.unlist(id, timers!, t);
    if (this.heap.length > 1024 && this.heap.length > 3 * this.live) this.rebuild();
  }

  get size(): number {
    return this.live;
  }

  /** The live timers in firing order, as plain data: a checkpoint's copy (the namespace only where there is one). */
  snapshot(): TimerRow[] {
    const all: Entry[] = [];
    for (const timers of this.byKey.values()) {
      if (Array.isArray(timers)) all.push(...timers);
      else for (const list of timers.values()) all.push(...list);
    }
    return all.sort((a, b) => (before(a, b) ? -1 : 1))
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
      const id = keyId(top.key);
      this.unlist(id, this.byKey.get(id)!, top);
      fire(top);
      n++;
    }
  }

  /** Takes timer t out of its key's timers (the key goes when its last timer does); its heap entry dies. */
  private unlist(id: KeyId, timers: KeyTimers, t: Entry): void {
    t.dead = true;
    this.live--;
    const list = Array.isArray(timers) ? timers : timers.get(t.timestamp)!;
    const i = list.indexOf(t);
    list[i] = list[list.length - 1]!;
    list.pop();
    if (list.length > 0) return;
    if (Array.isArray(timers)) this.byKey.delete(id);
    else {
      timers.delete(t.timestamp);
      if (timers.size === 0) this.byKey.delete(id);
    }
  }

  private dropDead(): void {
    while (this.heap.length > 0 && this.heap[0]!.dead) this.pop();
  }

  /** The heap again from its live entries (Floyd's bottom-up build). */
  private rebuild(): void {
    const h = this.heap.filter((t) => !t.dead);
    this.heap = h;
    for (let i = (h.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private push(t: Entry): void {
    const h = this.heap;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(t, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = t;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    this.siftDown(0);
  }

  private siftDown(at: number): void {
    const h = this.heap;
    const t = h[at]!;
    let i = at;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const m = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[m]!, t)) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = t;
  }
}
