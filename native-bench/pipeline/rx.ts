// The RxJS baselines: the keyed pipeline as users write it with groupBy, and as one scan over a Map.
import { groupBy, map, mergeMap, range, scan } from 'rxjs';
import { accumulate, addTo, newAcc, toRecord } from './functions.ts';
import type { Acc, Rec } from './functions.ts';

/** range -> map -> groupBy(key) -> mergeMap(group => group.pipe(scan)): the idiomatic keyed form. Returns the records emitted. */
export function rxGroupBy(n: number): number {
  let emitted = 0;
  range(0, n).pipe(
    map(toRecord),
    groupBy((r: Rec) => r.key),
    mergeMap((group) => group.pipe(scan((acc: Acc, r: Rec) => accumulate(acc, r.value), newAcc()))),
  ).subscribe(() => { emitted++; });
  return emitted;
}

/** range -> map -> scan over one Map of every key's running count/sum. Returns the records emitted. */
export function rxScan(n: number): number {
  let emitted = 0;
  const state = new Map<number, Acc>();
  range(0, n).pipe(
    map(toRecord),
    scan((_last: Acc | null, r: Rec) => addTo(state, r.key, r.value), null),
  ).subscribe(() => { emitted++; });
  return emitted;
}
