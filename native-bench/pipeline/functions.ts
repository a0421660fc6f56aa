// The user functions every pipeline in pipeline.bench.ts runs, weir and baselines alike: the record map and the keyed running count/sum.

/** Distinct keys of the keyed pipelines. */
export const KEYS = 10_000;

export interface Rec {
  readonly key: number;
  readonly value: number;
}

/** The typed form of a record: Types.TUPLE(Types.INT32, Types.FLOAT64). */
export type Pair = [number, number];

export interface Acc {
  count: number;
  sum: number;
}

// Values are never integral, so msgpackr writes every one as a float64, as the schema codec does.
export const toRecord = (i: number): Rec => ({ key: i % KEYS, value: (i & 1023) + 0.5 });
export const toPair = (i: number): Pair => [i % KEYS, (i & 1023) + 0.5];

export const newAcc = (): Acc => ({ count: 0, sum: 0 });

/** The per-key step: what RxJS's scan runs per group, and what addTo runs after its lookup. */
export function accumulate(acc: Acc, value: number): Acc {
  acc.count++;
  acc.sum += value;
  return acc;
}

/** The process logic: the running count/sum of `key`, in a Map the caller owns. */
export function addTo(state: Map<number, Acc>, key: number, value: number): Acc {
  let acc = state.get(key);
  if (acc === undefined) state.set(key, acc = newAcc());
  return accumulate(acc, value);
}

/** The sum of every record's value for records 0..n-1, which each pipeline's state must hold. */
export function expectedSum(from: number, n: number): number {
  let s = 0;
  for (let i = from; i < from + n; i++) s += (i & 1023) + 0.5;
  return s;
}

// The chained (stateless) pipeline: map -> filter -> map.
export const keepEven = (r: Rec): boolean => (r.key & 1) === 0;
export const scaled = (r: Rec): number => r.value * 2;

// The generator pipeline: a source that builds an object per record, and a filter that keeps 1% of them.
export const generated = (i: number): Rec => ({ key: i % KEYS, value: (i & 1023) + 0.5 });
export const keepOnePercent = (r: Rec): boolean => r.key % 100 === 0;
