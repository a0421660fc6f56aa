// The heap state backend: JS Maps partitioned by key group, with dirty tracking per key group.
import { compareBytes } from './bytes.ts';
import { encodeKey } from '../keys/encoding.ts';
import type { Key } from '../keys/encoding.ts';
import { keyId } from '../keys/key-id.ts';
import type { KeyId } from '../keys/key-id.ts';
import { deserialize, serialize } from 'node:v8';
import { WeirError } from '../errors.ts';
import type { BackendContext, BackendSnapshot, CurrentKey, KeyedStateBackend, StateTable } from './backend.ts';
import { checkKeyGroup } from './key-check.ts';

type Id = KeyId;
/** A MapState entry keeps its key's encoding, so iteration can sort in byte order. */
type MapEntry = [Key, unknown, Uint8Array];
type Group = Map<Id, unknown>;

/**
 * Per table: key group -> (key id, or key id + namespace) -> value, or for MapState a Map
 * of user key id -> entry. Values are immutable once written, so a snapshot can hold on
 * to the Maps of the key groups that are not dirty instead of copying every key.
 */
class HeapTable implements StateTable {
  readonly name: string;
  private readonly backend: HeapBackend;
  readonly groups = new Map<number, Group>();
  private cursor: Iterator<[number, Group, Id, Map<Id, MapEntry> | null, Id | null]> | null = null;

  constructor(name: string, backend: HeapBackend) {
    this.name = name;
    this.backend = backend;
  }

  private slot(namespace: string): Id {
    const id = this.backend.currentId;
    return namespace === '' ? id : `\u0001${typeof id}:${String(id)}\u0001${namespace}`;
  }

  private group(create: boolean): Group | undefined {
    const kg = this.backend.currentKey.keyGroup;
    let g = this.groups.get(kg);
    if (g === undefined && create) {
      g = new Map();
      this.groups.set(kg, g);
    }
    return g;
  }

  get(namespace: string, userKey: Key | undefined): unknown {
    const g = this.group(false);
    if (g === undefined) return undefined;
    const v = g.get(this.slot(namespace));
    if (userKey === undefined) return v;
    return (v as Map<Id, MapEntry> | undefined)?.get(keyId(userKey))?.[1];
  }

  put(namespace: string, userKey: Key | undefined, value: unknown): void {
    const g = this.group(true)!;
    this.backend.markDirty();
    const id = this.slot(namespace);
    if (userKey === undefined) {
      g.set(id, value);
      return;
    }
    let m = g.get(id) as Map<Id, MapEntry> | undefined;
    if (m === undefined) g.set(id, (m = new Map()));
    m.set(keyId(userKey), [userKey, value, encodeKey(userKey)]);
  }

  remove(namespace: string, userKey: Key | undefined): void {
    const g = this.group(false);
    if (g === undefined) return;
    this.backend.markDirty();
    const id = this.slot(namespace);
    if (userKey === undefined) {
      g.delete(id);
      return;
    }
    const m = g.get(id) as Map<Id, MapEntry> | undefined;
    if (m === undefined) return;
    m.delete(keyId(userKey));
    if (m.size === 0) g.delete(id);
  }

  *entries(namespace: string): IterableIterator<[Key, unknown]> {
    const m = this.group(false)?.get(this.slot(namespace)) as Map<Id, MapEntry> | undefined;
    if (m === undefined) return;
    const sorted = [...m.values()].sort((a, b) => compareBytes(a[2], b[2]));
    for (const [k, v] of sorted) yield [k, v];
  }

  removeAll(namespace: string): void {
    const g = this.group(false);
    if (g === undefined) return;
    this.backend.markDirty();
    g.delete(this.slot(namespace));
  }

  cleanupStep(budget: number, expired: (value: unknown) => boolean): number {
    let removed = 0;
    for (let visited = 0; visited < budget; visited++) {
      this.cursor ??= this.walk();
      const r = this.cursor.next();
      if (r.done) {
        this.cursor = null;
        break;
      }
      const [kg, g, id, map, uid] = r.value;
      if (map !== null) {
        if (expired(map.get(uid!)?.[1])) { map.delete(uid!); removed++; if (map.size === 0) g.delete(id); this.backend.markGroupDirty(kg); }
      } else if (g.has(id) && expired(g.get(id))) {
        g.delete(id);
        removed++;
        this.backend.markGroupDirty(kg);
      }
    }
    return removed;
  }

  /** Every entry once; Map iteration tolerates deletion of visited entries. */
  private *walk(): Generator<[number, Group, Id, Map<Id, MapEntry> | null, Id | null]> {
    for (const [kg, g] of this.groups) {
      for (const [id, v] of g) {
        if (v instanceof Map) for (const uid of v.keys()) yield [kg, g, id, v as Map<Id, MapEntry>, uid];
        else yield [kg, g, id, null, null];
      }
    }
  }
}

export class HeapBackend implements KeyedStateBackend {
  readonly kind = 'heap' as const;
  private readonly ctx: BackendContext;
  private readonly tables = new Map<string, HeapTable>();
  private dirty = new Set<number>();
  currentKey: CurrentKey = { key: '', keyGroup: -1 };
  currentId: Id = '';

  constructor(ctx: BackendContext) {
    this.ctx = ctx;
  }

  setCurrentKey(current: CurrentKey): void {
    checkKeyGroup(this.ctx, current);
    this.currentKey = current;
    this.currentId = keyId(current.key);
  }

  markDirty(): void {
    this.dirty.add(this.currentKey.keyGroup);
  }

  markGroupDirty(keyGroup: number): void {
    this.dirty.add(keyGroup);
  }

  table(name: string): StateTable {
    let t = this.tables.get(name);
    if (t === undefined) this.tables.set(name, (t = new HeapTable(name, this)));
    return t;
  }

  flush(): void {}

  takeDirtyKeyGroups(): Set<number> {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  snapshot(): BackendSnapshot {
    const tables: Record<string, Record<number, Uint8Array>> = {};
    for (const [name, t] of this.tables) {
      const groups: Record<number, Uint8Array> = {};
      // A deep copy at this point: values and the inner Maps of MapState change in place later.
      for (const [kg, g] of t.groups) if (g.size > 0) groups[kg] = serialize(g);
      tables[name] = groups;
    }
    return { kind: 'heap', tables };
  }

  restore(snapshot: BackendSnapshot): void {
    if (snapshot.kind !== 'heap') {
      throw new WeirError(`cannot restore ${snapshot.kind} state into the heap backend; switching backends comes with savepoints`, { uid: this.ctx.uid, subtask: this.ctx.subtask });
    }
    const { start, end } = this.ctx.keyGroups;
    for (const [name, groups] of Object.entries(snapshot.tables)) {
      const t = this.table(name) as HeapTable;
      for (const [kg, bytes] of Object.entries(groups)) {
        const g = Number(kg);
        if (g >= start && g <= end) t.groups.set(g, deserialize(bytes) as Group);
      }
    }
  }

  close(): void {
    this.tables.clear();
  }
}
