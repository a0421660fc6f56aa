// State handles (Value, List, Map, Reducing, Aggregating) over a backend's tables, with TTL on processing time.
import { WeirError } from '../errors.ts';
import type { Key } from '../keys/encoding.ts';
import type { Clock } from '../time/clock.ts';
import type { KeyedStateBackend, StateTable, ValueSerializer } from './backend.ts';
import type {
  AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor, StateDescriptor,
  ValueStateDescriptor,
} from './descriptors.ts';
import { serializerFor, ttlSerializer } from './serializers.ts';
import { Types } from '../codec/types.ts';

export interface ValueState<T> { value(): T; update(value: T): void; clear(): void }
export interface ListState<T> { get(): readonly T[]; add(value: T): void; addAll(values: readonly T[]): void; update(values: readonly T[]): void; clear(): void }
export interface MapState<K, V> {
  get(key: K): V | undefined; put(key: K, value: V): void; putAll(entries: Iterable<readonly [K, V]>): void;
  remove(key: K): void; contains(key: K): boolean; entries(): IterableIterator<[K, V]>; keys(): IterableIterator<K>;
  values(): IterableIterator<V>; isEmpty(): boolean; clear(): void;
}
export interface ReducingState<T> { get(): T | undefined; add(value: T): void; clear(): void }
export interface AggregatingState<IN, OUT> { get(): OUT | undefined; add(value: IN): void; clear(): void }

export type StateHandle<D> =
  D extends ValueStateDescriptor<infer T> ? ValueState<T>
    : D extends ListStateDescriptor<infer T> ? ListState<T>
      : D extends MapStateDescriptor<infer K, infer V> ? MapState<K, V>
        : D extends ReducingStateDescriptor<infer T> ? ReducingState<T>
          : D extends AggregatingStateDescriptor<infer I, unknown, infer O> ? AggregatingState<I, O>
            : never;

/** Entries written this many at a time are followed by a look at this many old ones for expiry. */
const TTL_CLEANUP_PER_WRITE = 5;

/** The keyed state of one operator: handles by descriptor, each bound to the backend's current key. */
/** A registered state: its name and `kind<type> ttl=ms` signature. */
export interface StateInfo { readonly name: string; readonly signature: string }

export class KeyedStateStore {
  private readonly backend: KeyedStateBackend;
  private readonly clock: Clock;
  private readonly uid: string;
  private readonly byName = new Map<string, { signature: string; handle: unknown }>();
  private readonly byDescriptor = new WeakMap<StateDescriptor<unknown>, unknown>();

  constructor(backend: KeyedStateBackend, clock: Clock, uid: string) {
    this.backend = backend;
    this.clock = clock;
    this.uid = uid;
  }

  /** Every state registered so far, as the checkpoint metadata records it: name, kind, declared type, TTL. */
  describe(): StateInfo[] {
    return [...this.byName.entries()].map(([name, { signature }]) => ({ name, signature }));
  }

  getState<D extends StateDescriptor<unknown>>(descriptor: D): StateHandle<D> {
    const cached = this.byDescriptor.get(descriptor);
    if (cached !== undefined) return cached as StateHandle<D>;
    const known = this.byName.get(descriptor.name);
    if (known !== undefined) {
      if (known.signature !== descriptor.signature()) {
        throw new WeirError(`state '${descriptor.name}' is registered twice with different types: `
          + `${known.signature} and ${descriptor.signature()}`, { uid: this.uid });
      }
      this.byDescriptor.set(descriptor, known.handle);
      return known.handle as StateHandle<D>;
    }
    const handle = this.create(descriptor as unknown as AnyDescriptor);
    this.byName.set(descriptor.name, { signature: descriptor.signature(), handle });
    this.byDescriptor.set(descriptor, handle);
    return handle as StateHandle<D>;
  }

  private create(d: AnyDescriptor): unknown {
    const serializer = serializerFor(d.type);
    // A list is stored whole: a declared element type makes it an array of that type.
    const whole = d.kind === 'list' && d.type !== undefined ? serializerFor(Types.ARRAY(d.type)) : serializer;
    const stored = d.ttl === undefined ? whole : ttlSerializer(whole);
    const cell = new Cell(this.backend.table(d.name, stored), serializer, d, this.clock, this.uid, this.backend);
    switch (d.kind) {
      case 'value': return valueState(cell, (d as ValueStateDescriptor<unknown>).defaultValue);
      case 'list': return listState(cell);
      case 'map': return mapState(cell);
      case 'reducing': return reducingState(cell, (d as ReducingStateDescriptor<unknown>).reduce);
      case 'aggregating': return aggregatingState(cell, (d as AggregatingStateDescriptor<unknown, unknown, unknown>).aggregate);
    }
  }
}

type AnyDescriptor = StateDescriptor<unknown>;

/** A table seen through TTL and type checks: what every handle reads and writes through. */
class Cell {
  readonly table: StateTable;
  private readonly serializer: ValueSerializer;
  private readonly d: AnyDescriptor;
  private readonly clock: Clock;
  private readonly uid: string;
  private readonly backend: KeyedStateBackend;
  private readonly ttl: number | undefined;
  private readonly checkType: boolean;

  constructor(table: StateTable, serializer: ValueSerializer, d: AnyDescriptor, clock: Clock, uid: string, backend: KeyedStateBackend) {
    this.table = table;
    this.serializer = serializer;
    this.d = d;
    this.clock = clock;
    this.uid = uid;
    this.backend = backend;
    this.ttl = d.ttl;
    // The LMDB backend serializes every value anyway; the heap backend checks declared types here.
    this.checkType = d.type !== undefined && backend.kind === 'heap';
  }

  private expired = (stored: unknown): boolean =>
    stored !== undefined && this.clock.now() - (stored as [number, unknown])[0] >= this.ttl!;

  read(userKey: Key | undefined): unknown {
    // The hot path: no closure for guard() (one per read showed in profiles of window jobs).
    let stored: unknown;
    try {
      stored = this.table.get('', userKey);
    } catch (err) {
      throw this.wrap(err);
    }
    if (this.ttl === undefined || stored === undefined) return stored;
    if (this.expired(stored)) return undefined;
    return (stored as [number, unknown])[1];
  }

  write(userKey: Key | undefined, value: unknown, element?: unknown): void {
    if (this.checkType) this.guard(() => this.serializer.serialize(element ?? value));
    if (this.ttl === undefined) {
      try {
        this.table.put('', userKey, value);
      } catch (err) {
        throw this.wrap(err);
      }
      return;
    }
    this.guard(() => this.table.put('', userKey, [this.clock.now(), value]));
    this.table.cleanupStep(TTL_CLEANUP_PER_WRITE, this.expired);
  }

  remove(userKey: Key | undefined): void {
    this.guard(() => this.table.remove('', userKey));
  }

  removeAll(): void {
    this.table.removeAll('');
  }

  *entries(): IterableIterator<[Key, unknown]> {
    for (const [k, stored] of this.table.entries('')) {
      if (this.ttl === undefined) yield [k, stored];
      else if (!this.expired(stored)) yield [k, (stored as [number, unknown])[1]];
    }
  }

  /** Names the operator, state and key in errors from keys and values that do not fit. */
  private guard<R>(f: () => R): R {
    try {
      return f();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  private wrap(err: unknown): Error {
    if (err instanceof WeirError) return err;
    return new WeirError(`state '${this.d.name}' (${this.d.signature()}) for key ${show(this.backend.currentKey.key)}: `
      + `${(err as Error).message}`, { uid: this.uid, cause: err });
  }
}

function show(key: unknown): string {
  try {
    return JSON.stringify(key, (_, v) => typeof v === 'bigint' ? `${v}n` : v) ?? String(key);
  } catch {
    return String(key);
  }
}

function valueState(cell: Cell, defaultValue: unknown): ValueState<unknown> {
  return {
    value: () => { const v = cell.read(undefined); return v === undefined ? defaultValue : v; },
    update: (v) => { if (v === undefined || v === null) cell.remove(undefined); else cell.write(undefined, v); },
    clear: () => cell.remove(undefined),
  };
}

function listState(cell: Cell): ListState<unknown> {
  const get = () => (cell.read(undefined) as readonly unknown[] | undefined) ?? [];
  return {
    get,
    // Values are immutable once written: adding writes a new array.
    add: (v) => cell.write(undefined, [...get(), v], v),
    addAll: (vs) => { if (vs.length > 0) cell.write(undefined, [...get(), ...vs], vs[0]); },
    update: (vs) => { if (vs.length === 0) cell.remove(undefined); else cell.write(undefined, [...vs], vs[0]); },
    clear: () => cell.remove(undefined),
  };
}

function mapState(cell: Cell): MapState<unknown, unknown> {
  const state: MapState<unknown, unknown> = {
    get: (k) => cell.read(k as Key),
    put: (k, v) => cell.write(k as Key, v),
    putAll: (entries) => { for (const [k, v] of entries) cell.write(k as Key, v); },
    remove: (k) => cell.remove(k as Key),
    contains: (k) => cell.read(k as Key) !== undefined,
    entries: () => cell.entries() as IterableIterator<[unknown, unknown]>,
    *keys() { for (const [k] of cell.entries()) yield k; },
    *values() { for (const [, v] of cell.entries()) yield v; },
    isEmpty: () => cell.entries().next().done === true,
    clear: () => cell.removeAll(),
  };
  return state;
}

function reducingState(cell: Cell, reduce: (a: unknown, b: unknown) => unknown): ReducingState<unknown> {
  return {
    get: () => cell.read(undefined),
    add: (v) => { const old = cell.read(undefined); cell.write(undefined, old === undefined ? v : reduce(old, v)); },
    clear: () => cell.remove(undefined),
  };
}

function aggregatingState(cell: Cell, agg: AggregatingStateDescriptor<unknown, unknown, unknown>['aggregate']): AggregatingState<unknown, unknown> {
  return {
    get: () => { const acc = cell.read(undefined); return acc === undefined ? undefined : agg.getResult(acc); },
    add: (v) => { const acc = cell.read(undefined); cell.write(undefined, agg.add(v, acc === undefined ? agg.createAccumulator() : acc)); },
    clear: () => cell.remove(undefined),
  };
}
