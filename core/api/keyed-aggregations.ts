// reduce, sum, min, max, minBy, maxBy: running aggregates derived from KeyedProcessFunction and ValueState.
import { WeirError } from '../errors.ts';
import { ValueStateDescriptor } from '../state/descriptors.ts';
import type { KeyedContext } from './keyed-process-function.ts';
import { KeyedProcessFunction } from './keyed-process-function.ts';
import type { Collector } from './operator.ts';

/** Emits the running reduction of each key: one output per input, as Flink does. */
export class ReduceProcess<T> extends KeyedProcessFunction<unknown, T, T> {
  private readonly reduce: (a: T, b: T) => T;
  private readonly acc = new ValueStateDescriptor<T>('reduce');
  constructor(reduce: (a: T, b: T) => T) {
    super();
    this.reduce = reduce;
  }
  processElement(v: T, ctx: KeyedContext<unknown>, out: Collector<T>) {
    const s = ctx.state(this.acc);
    const cur = s.value();
    const next = cur === undefined ? v : this.reduce(cur, v);
    s.update(next);
    out.collect(next);
  }
}

export type AggregationKind = 'sum' | 'min' | 'max' | 'minBy' | 'maxBy';
/** A tuple position or an object field; none when the records are numbers themselves. */
export type Field = number | string | undefined;

function read(record: unknown, field: Field, kind: string): number {
  const v = field === undefined ? record : (record as Record<string | number, unknown>)[field];
  if (typeof v !== 'number') {
    throw new WeirError(`${kind}(${field === undefined ? '' : JSON.stringify(field)}) needs a number, got ${typeof v} in ${JSON.stringify(record)}`);
  }
  return v;
}

function withField(record: unknown, field: Field, value: number): unknown {
  if (field === undefined) return value;
  if (Array.isArray(record)) {
    const copy = [...record];
    copy[field as number] = value;
    return copy;
  }
  return { ...(record as object), [field]: value };
}

/** The reduction of `kind` over `field`: what sum, min, max, minBy and maxBy do with each next record. */
export function fieldReducer<T>(kind: AggregationKind, field: Field): (cur: T, v: T) => T {
  return (cur, v) => {
    const x = read(v, field, kind);
    const c = read(cur, field, kind);
    switch (kind) {
      case 'sum': return withField(cur, field, c + x) as T;
      case 'min': return (x < c ? withField(cur, field, x) : cur) as T;
      case 'max': return (x > c ? withField(cur, field, x) : cur) as T;
      case 'minBy': return x < c ? v : cur;
      default: return x > c ? v : cur;
    }
  };
}

/**
 * sum, min and max keep the other fields of the key's first record and replace the
 * aggregated one; minBy and maxBy emit the whole record holding the extreme value, the
 * first one on ties.
 */
export class FieldAggregation<T> extends KeyedProcessFunction<unknown, T, T> {
  private readonly kind: AggregationKind;
  private readonly field: Field;
  private readonly reduce: (cur: T, v: T) => T;
  private readonly acc = new ValueStateDescriptor<T>('aggregate');
  constructor(kind: AggregationKind, field: Field) {
    super();
    this.kind = kind;
    this.field = field;
    this.reduce = fieldReducer<T>(kind, field);
  }
  processElement(v: T, ctx: KeyedContext<unknown>, out: Collector<T>) {
    const s = ctx.state(this.acc);
    const cur = s.value();
    let next: T;
    if (cur === undefined) {
      read(v, this.field, this.kind);
      next = v;
    } else {
      next = this.reduce(cur, v);
    }
    s.update(next);
    out.collect(next);
  }
}
