// The hand-written single-thread baselines: the same user functions called in a plain for loop.
import { addTo, generated, keepEven, keepOnePercent, scaled, toPair, toRecord } from './functions.ts';
import type { Acc } from './functions.ts';

/** What a loop leaves behind, for the caller to check: the keys seen, records emitted, and the sum of every value. */
export interface LoopResult {
  readonly keys: number;
  readonly emitted: number;
  readonly sum: number;
}

function summarize(state: Map<number, Acc>, emitted: number): LoopResult {
  let sum = 0;
  for (const acc of state.values()) sum += acc.sum;
  return { keys: state.size, emitted, sum };
}

/** for i in 0..n: rec = map(i); process(rec): every emitted accumulator is counted, as weir's discard sink would see it. */
export function keyedLoop(n: number): LoopResult {
  const state = new Map<number, Acc>();
  let emitted = 0;
  for (let i = 0; i < n; i++) {
    const r = toRecord(i);
    if (addTo(state, r.key, r.value) !== undefined) emitted++;
  }
  return summarize(state, emitted);
}

/** The same with the typed record form, [key, value] pairs. */
export function keyedPairLoop(n: number, from = 0): LoopResult {
  const state = new Map<number, Acc>();
  let emitted = 0;
  for (let i = from; i < from + n; i++) {
    const r = toPair(i);
    if (addTo(state, r[0], r[1]) !== undefined) emitted++;
  }
  return summarize(state, emitted);
}

/** map -> filter -> map, summing the output so that the work cannot be optimized away. */
export function chainedLoop(n: number): { emitted: number; sum: number } {
  let emitted = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const r = toRecord(i);
    if (!keepEven(r)) continue;
    sum += scaled(r);
    emitted++;
  }
  return { emitted, sum };
}

/** The generator pipeline by hand: build each record, keep 1%, count what is kept. */
export function generateFilterLoop(n: number, from = 0): { emitted: number } {
  let emitted = 0;
  for (let i = from; i < from + n; i++) if (keepOnePercent(generated(i))) emitted++;
  return { emitted };
}
