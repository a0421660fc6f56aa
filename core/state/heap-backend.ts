// The heap state backend: JS Maps partitioned by key group, with dirty tracking per key group.
import { compareBytes } from './bytes.ts';
import { decodeKey } from '../keys/decoding.ts';
import { encodeKey } from '../keys/encoding.ts';
import type { Key } from '../keys/encoding.ts';
import { keyId } from '../keys/key-id.ts';
import type { KeyId } from '../keys/key-id.ts';
import { WeirError } from '../errors.ts';
import type { BackendContext, BackendSnapshot, CurrentKey, KeyedStateBackend, StateTable, ValueSerializer } from './backend.ts';
import { decodeTable, lmdbPairsToCanonical, PairWriter, readEnvironment } from './canonical.ts';
import type { CanonicalTables } from './canonical.ts';
import { checkKeyGroup } from './key-check.ts';
import { serializerFromDescriptor } from './serializers.ts';
import { v8 } from '../lazy-builtins.ts';

type Id = KeyId;
/** A MapState entry keeps its key's encoding, so iteration can sort in byte order. */
type MapEntry = [Key, unknown, Uint8Array];
type Group = Map<Id, unknown>;

/**
 * A slot of a (key, namespace) with a namespace: ESCAPE, then 0x01, then the encoding of
 * [key, namespace]. keyId's forms have a second char of ESCAPE or TAG_ARRAY, never 0x01,
 * so the two cannot meet, and the key comes back from the slot (keyOfSlot).
 */
const NAMESPACED = '\u0000\u0001';
const EMPTY_NAMESPACE = encodeKey('');

function keyOfSlot(slot: Id): [Key, string] {
  if (typeof slot !== 'string') return [slot, ''];
  if (slot.charCodeAt(0) !== 0) return [slot, ''];
  if (slot.startsWith(NAMESPACED)) {
    const [key, ns] = decodeKey(Buffer.from(slot.slice(2), 'latin1')) as [Key, string];
    return [key, ns];
  }
  // ESCAPE + ESCAPE...: a string key; ESCAPE + TAG_ARRAY...: an array key's encoding.
  return slot.charCodeAt(1) === 0 ? [slot.slice(1), ''] : [decodeKey(Buffer.from(slot.slice(1), 'latin1')), ''];
}

/**
 * Per table: key group -> (key id, or key id + namespace) -> value, or for MapState a Map
 * of user key id -> entry. Values are immutable once written, so a snapshot can hold on
 * to the Maps of the key groups that are not dirty instead of copying every key.
 */
class HeapTable implements StateTable {
  readonly name: string;
  private readonly backend: HeapBackend;
  readonly groups = new Map<number, Group>();
  /** The serializer it was opened with, or that its restored entries were written with. */
  serializer: ValueSerializer | undefined = undefined;
  /** MapState: a slot's value is a Map of user keys, not the user's value. */
  isMap = false;
  private cursor: Iterator<[number, Group, Id, Map<Id, MapEntry> | null, Id | null]> | null = null;

  constructor(name: string, backend: HeapBackend) {
    this.name = name;
    this.backend = backend;
  }

  private slot(namespace: string): Id {
    if (namespace === '') return this.backend.currentId;
    return NAMESPACED + Buffer.from(encodeKey([this.backend.currentKey.key, namespace])).toString('latin1');
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
    this.isMap = true;
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

  table(name: string, serializer?: ValueSerializer): StateTable {
    let t = this.tables.get(name);
    if (t === undefined) this.tables.set(name, (t = new HeapTable(name, this)));
    if (serializer !== undefined) {
      const was = t.serializer?.descriptor;
      if (was !== undefined && was !== serializer.descriptor) {
        throw new WeirError(`state '${name}' was checkpointed with serializer ${was} and is now declared with ${serializer.descriptor}: a state whose type changed cannot be restored (give the new one another name)`,
          { uid: this.ctx.uid, subtask: this.ctx.subtask, unrecoverable: true });
      }
      t.serializer = serializer;
    }
    return t;
  }

  flush(): void {}

  takeDirtyKeyGroups(): Set<number> {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  snapshot(_target?: unknown, canonical = false): BackendSnapshot {
    if (canonical) return { kind: 'canonical', tables: this.exportCanonical() };
    const tables: Record<string, Record<number, Uint8Array>> = {};
    const descriptors: Record<string, string> = {};
    const maps: string[] = [];
    for (const [name, t] of this.tables) {
      const groups: Record<number, Uint8Array> = {};
      // A deep copy at this point: values and the inner Maps of MapState change in place later.
      for (const [kg, g] of t.groups) if (g.size > 0) groups[kg] = v8().serialize(g);
      tables[name] = groups;
      if (t.serializer !== undefined) descriptors[name] = t.serializer.descriptor;
      if (t.isMap) maps.push(name);
    }
    return { kind: 'heap', tables, descriptors, maps };
  }

  /** Every table in the canonical form (core/state/canonical.ts): values through their serializers. */
  exportCanonical(): CanonicalTables {
    const out: Record<string, { descriptor: string; pairs: Uint8Array }> = {};
    for (const [name, t] of this.tables) {
      const s = t.serializer;
      if (s === undefined) {
        if ([...t.groups.values()].every((g) => g.size === 0)) continue;
        throw new WeirError(`state '${name}' has entries but no serializer is known for it`, { uid: this.ctx.uid, subtask: this.ctx.subtask });
      }
      const w = new PairWriter();
      const group = new Uint8Array(2);
      for (const kg of [...t.groups.keys()].sort((a, b) => a - b)) {
        group[0] = kg >>> 8;
        group[1] = kg & 0xff;
        for (const [slot, v] of t.groups.get(kg)!) {
          const [key, ns] = keyOfSlot(slot);
          // key | namespace, copied once: the key encoder's scratch is reused by the next call.
          const base = encodeKey(key);
          const space = ns === '' ? EMPTY_NAMESPACE : encodeKey(ns);
          if (t.isMap) for (const [, value, uk] of (v as Map<Id, MapEntry>).values()) w.write([group, base, space, uk], s.serialize(value));
          else w.write([group, base, space], s.serialize(v));
        }
      }
      out[name] = { descriptor: s.descriptor, pairs: w.bytes() };
    }
    return out;
  }

  /**
   * Before any state is used: the entries of `snapshot` in this backend's key groups. Called
   * once per restored part: a rescaled subtask restores from every old subtask whose key
   * groups overlap its own. LMDB snapshots come in canonical (toCanonical converts them).
   */
  restore(snapshot: BackendSnapshot): void {
    const { start, end } = this.ctx.keyGroups;
    if (snapshot.kind === 'heap') {
      for (const [name, groups] of Object.entries(snapshot.tables)) {
        const t = this.table(name) as HeapTable;
        const d = snapshot.descriptors?.[name];
        if (d !== undefined && t.serializer === undefined) {
          try {
            t.serializer = serializerFromDescriptor(d);
          } catch {
            // Values are restored as they were; the serializer comes when user code opens the table.
          }
        }
        if (snapshot.maps?.includes(name) === true) t.isMap = true;
        for (const [kg, bytes] of Object.entries(groups)) {
          const g = Number(kg);
          if (g >= start && g <= end) t.groups.set(g, v8().deserialize(bytes) as Group);
        }
      }
      return;
    }
    const where = `operator '${this.ctx.uid}' subtask ${this.ctx.subtask}`;
    if (snapshot.kind === 'lmdb') return this.restore({ kind: 'canonical', tables: lmdbPairsToCanonical(snapshot.tables, snapshot.descriptors, where) });
    if (snapshot.kind === 'lmdb-env') {
      return this.restore({ kind: 'canonical', tables: readEnvironment()(snapshot.file, this.ctx.uid, snapshot.tables, snapshot.descriptors, snapshot.overlay) });
    }
    for (const [name, table] of Object.entries(snapshot.tables)) {
      const t = this.table(name) as HeapTable;
      if (t.serializer === undefined) t.serializer = serializerFromDescriptor(table.descriptor);
      for (const e of decodeTable(table, this.ctx.keyGroups, `${where}, state '${name}'`, t.serializer)) {
        this.currentKey = { key: e.key, keyGroup: e.keyGroup };
        this.currentId = keyId(e.key);
        t.put(e.namespace, e.userKey, e.value);
      }
    }
    this.currentKey = { key: '', keyGroup: -1 };
    this.currentId = '';
    this.dirty.clear();
  }

  close(): void {
    this.tables.clear();
  }
}

/** A heap snapshot in the canonical form, every key group of it (an LMDB backend restores it so). */
export function heapToCanonical(snapshot: BackendSnapshot & { kind: 'heap' }, ctx: BackendContext): CanonicalTables {
  const all = new HeapBackend({ ...ctx, keyGroups: { start: 0, end: ctx.maxParallelism - 1 } });
  all.restore(snapshot);
  return all.exportCanonical();
}
