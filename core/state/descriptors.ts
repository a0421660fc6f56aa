// State descriptors: the name, kind, declared type and TTL of a piece of keyed state.
import type { TypeInfo } from '../codec/types.ts';
import { WeirError } from '../errors.ts';

export type StateKind = 'value' | 'list' | 'map' | 'reducing' | 'aggregating';

export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
}

export abstract class StateDescriptor<T> {
  readonly name: string;
  abstract readonly kind: StateKind;
  /** The declared type of stored values (Types...): validated on write, and the LMDB codec. */
  readonly type: TypeInfo | undefined;
  /** Time to live in ms of processing time, refreshed on every write; undefined: forever. */
  ttl: number | undefined = undefined;
  declare readonly __value?: T;

  constructor(name: string, type?: TypeInfo) {
    if (typeof name !== 'string' || name === '' || name.includes('/')) {
      throw new WeirError(`a state name must be a non-empty string without '/', got ${JSON.stringify(name)}`);
    }
    this.name = name;
    this.type = type;
  }

  /** Entries expire `ttl` ms of processing time after their last write and are never read after that. */
  enableTimeToLive(ttl: number): this {
    if (!Number.isFinite(ttl) || ttl <= 0) throw new WeirError(`state '${this.name}': ttl must be a positive number of ms, got ${ttl}`);
    this.ttl = ttl;
    return this;
  }

  /** What two registrations under one name must agree on. */
  signature(): string {
    return `${this.kind}<${this.type?.descriptor ?? 'any'}>${this.ttl !== undefined ? ` ttl=${this.ttl}` : ''}`;
  }
}

export class ValueStateDescriptor<T> extends StateDescriptor<T> {
  readonly kind = 'value' as const;
  readonly defaultValue: T | undefined;
  constructor(name: string, defaultValue?: T, type?: TypeInfo) {
    super(name, type);
    this.defaultValue = defaultValue;
  }
}

export class ListStateDescriptor<T> extends StateDescriptor<T> {
  readonly kind = 'list' as const;
}

/** Map keys are keys (strings, numbers, bigints, booleans, arrays); iteration is in their byte order. */
export class MapStateDescriptor<K, V> extends StateDescriptor<V> {
  readonly kind = 'map' as const;
  declare readonly __key?: K;
}

export class ReducingStateDescriptor<T> extends StateDescriptor<T> {
  readonly kind = 'reducing' as const;
  readonly reduce: (a: T, b: T) => T;
  constructor(name: string, reduce: (a: T, b: T) => T, type?: TypeInfo) {
    super(name, type);
    if (typeof reduce !== 'function') throw new WeirError(`state '${name}': a ReducingStateDescriptor needs a reduce function`);
    this.reduce = reduce;
  }
}

export class AggregatingStateDescriptor<IN, ACC, OUT> extends StateDescriptor<ACC> {
  readonly kind = 'aggregating' as const;
  readonly aggregate: AggregateFunction<IN, ACC, OUT>;
  declare readonly __in?: IN;
  declare readonly __out?: OUT;
  constructor(name: string, aggregate: AggregateFunction<IN, ACC, OUT>, accumulatorType?: TypeInfo) {
    super(name, accumulatorType);
    this.aggregate = aggregate;
  }
}
