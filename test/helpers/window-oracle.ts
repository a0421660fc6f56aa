// A brute-force oracle of Flink's event-time windows (tumbling, sliding) with the event-time trigger and allowed lateness.

export type Ev = { k: number | string; ts: number; n: number };
export type Item<E extends Ev = Ev> = { e: E } | { w: number };

export const wid = (k: number | string, s: number, e: number) => `${k}@${s}:${e}`;

/**
 * Flink's semantics for tumbling/sliding windows with the event-time trigger, written out
 * as a direct simulation over windows: per (key, window) the sequence of results it emits,
 * and the elements that are late for every window they belong to.
 */
export function fixedWindowsOracle<E extends Ev>(items: Item<E>[], windowsOf: (ts: number) => [number, number][], lateness: number) {
  let wm = -Infinity;
  const live = new Map<string, { k: number | string; s: number; e: number; sum: number; count: number; fired: boolean }>();
  const results = new Map<string, string[]>();
  const late: E[] = [];
  const emit = (x: { k: number | string; s: number; e: number; sum: number; count: number }) => {
    const id = wid(x.k, x.s, x.e);
    results.set(id, [...(results.get(id) ?? []), `${x.sum}/${x.count}`]);
  };
  const advance = (to: number) => {
    if (to <= wm) return;
    wm = to;
    for (const [id, x] of live) {
      if (!x.fired && x.e - 1 <= wm) { emit(x); x.fired = true; }
      if (x.e - 1 + lateness <= wm) live.delete(id);
    }
  };
  for (const it of [...items, { w: Infinity }]) {
    if ('w' in it) { advance(it.w); continue; }
    const { e } = it;
    let onTime = false;
    for (const [s, end] of windowsOf(e.ts)) {
      if (end - 1 + lateness <= wm) continue;
      onTime = true;
      const id = wid(e.k, s, end);
      const x = live.get(id) ?? { k: e.k, s, e: end, sum: 0, count: 0, fired: false };
      live.set(id, x);
      x.sum += e.n;
      x.count++;
      if (end - 1 <= wm) { emit(x); x.fired = true; }
    }
    if (!onTime && e.ts + lateness <= wm) late.push(e);
  }
  return { results, late };
}

