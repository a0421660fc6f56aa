// The canonical form of keyed state: per table, its value serializer and (key, value) byte pairs, key groups in order.
//
// A key is the LMDB layout (core/state/lmdb-keys.ts): key group (u16, big-endian) | key |
// namespace | user key (MapState only), each part in the canonical key encoding; a value is
// the bytes of the table's serializer, named by its descriptor. LMDB stores exactly this, so
// its snapshot is already canonical; the heap backend converts. Savepoints hold keyed state
// in this form, which is what lets state move between backends and between parallelisms.
import { decodeKey, decodeKeyAt } from '../keys/decoding.ts';
import { encodeKey } from '../keys/encoding.ts';
import type { Key } from '../keys/encoding.ts';
import type { KeyGroupRange } from '../keys/key-groups.ts';
import { WeirError } from '../errors.ts';
import { serializerFromDescriptor } from './serializers.ts';
import type { ValueSerializer } from './backend.ts';

export interface CanonicalTable {
  /** The serializer's descriptor (`general:...`, `schema:<type>`, `ttl(...)`). */
  readonly descriptor: string;
  /**
   * (u32 LE key length, key, u32 LE value length, value) repeated: key groups in ascending
   * order, and every entry of one (key, namespace) together (LMDB's export is in full key
   * byte order, the heap's in its Maps' order within a key group).
   */
  readonly pairs: Uint8Array;
}

/** Packs pairs as they are written into one growing buffer: no per-entry arrays, no sort. */
export class PairWriter {
  private buf = Buffer.allocUnsafe(1 << 16);
  private at = 0;

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  /** One pair whose key is `parts` concatenated. */
  write(parts: readonly Uint8Array[], value: Uint8Array): void {
    let kl = 0;
    for (const p of parts) kl += p.length;
    this.reserve(8 + kl + value.length);
    this.buf.writeUInt32LE(kl, this.at);
    this.at += 4;
    for (const p of parts) { this.buf.set(p, this.at); this.at += p.length; }
    this.buf.writeUInt32LE(value.length, this.at);
    this.buf.set(value, this.at + 4);
    this.at += 4 + value.length;
  }

  bytes(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.at);
  }
}

const EMPTY_NAMESPACE = encodeKey('');

export type CanonicalTables = Readonly<Record<string, CanonicalTable>>;

/** One entry of a table, decoded. */
export interface CanonicalEntry {
  readonly keyGroup: number;
  readonly key: Key;
  readonly namespace: string;
  /** The MapState key; undefined for the other kinds. */
  readonly userKey: Key | undefined;
  readonly value: unknown;
}

/** The raw pairs of a packed table; `where` names it in the error a truncated one gets. */
export function* rawPairs(pairs: Uint8Array, where: string): Generator<[Uint8Array, Uint8Array]> {
  const view = new DataView(pairs.buffer, pairs.byteOffset, pairs.byteLength);
  for (let at = 0; at < pairs.length;) {
    if (at + 4 > pairs.length) throw new WeirError(`${where}: the state pairs end inside a key length at byte ${at}`);
    const kl = view.getUint32(at, true);
    if (at + 4 + kl + 4 > pairs.length) throw new WeirError(`${where}: the state pairs end inside a key at byte ${at}`);
    const key = pairs.subarray(at + 4, at + 4 + kl);
    at += 4 + kl;
    const vl = view.getUint32(at, true);
    if (at + 4 + vl > pairs.length) throw new WeirError(`${where}: the state pairs end inside a value at byte ${at}`);
    yield [key, pairs.subarray(at + 4, at + 4 + vl)];
    at += 4 + vl;
  }
}

/** Decodes an LMDB key into its parts. */
export function decodeEntryKey(bytes: Uint8Array): { keyGroup: number; key: Key; namespace: string; userKey: Key | undefined } {
  if (bytes.length < 3) throw new WeirError(`a state key of ${bytes.length} bytes is too short`);
  const keyGroup = (bytes[0]! << 8) | bytes[1]!;
  const k = decodeKeyAt(bytes, 2);
  const ns = decodeKeyAt(bytes, k.end);
  if (typeof ns.key !== 'string') throw new WeirError(`a state key's namespace is not a string`);
  const userKey = ns.end < bytes.length ? decodeKey(bytes.subarray(ns.end)) : undefined;
  return { keyGroup, key: k.key, namespace: ns.key, userKey };
}

/** Every entry of a table in `range`, decoded with the serializer its descriptor names. */
export function* decodeTable(table: CanonicalTable, range: KeyGroupRange, where: string, serializer?: ValueSerializer): Generator<CanonicalEntry> {
  const s = serializer ?? serializerFromDescriptor(table.descriptor);
  for (const [k, v] of rawPairs(table.pairs, where)) {
    const keyGroup = (k[0]! << 8) | k[1]!;
    if (keyGroup < range.start || keyGroup > range.end) continue;
    const key = decodeKeyAt(k, 2);
    // The default namespace, the common case, without decoding it.
    let namespace = '';
    let end = key.end + EMPTY_NAMESPACE.length;
    let isEmpty = k.length >= end;
    for (let b = 0; isEmpty && b < EMPTY_NAMESPACE.length; b++) isEmpty = k[key.end + b] === EMPTY_NAMESPACE[b];
    if (!isEmpty) {
      const ns = decodeKeyAt(k, key.end);
      if (typeof ns.key !== 'string') throw new WeirError(`${where}: a state key's namespace is not a string`);
      namespace = ns.key;
      end = ns.end;
    }
    const userKey = end < k.length ? decodeKey(k.subarray(end)) : undefined;
    yield { keyGroup, key: key.key, namespace, userKey, value: s.deserialize(v) };
  }
}

/** LMDB pairs with their serializers named: already canonical. */
export function lmdbPairsToCanonical(tables: Readonly<Record<string, Uint8Array>>, descriptors: Readonly<Record<string, string>> | undefined,
  where: string): CanonicalTables {
  const out: Record<string, CanonicalTable> = {};
  for (const [name, pairs] of Object.entries(tables)) {
    const descriptor = descriptors?.[name];
    if (descriptor === undefined) {
      if (pairs.length === 0) continue;
      throw new WeirError(`${where}: state '${name}' was checkpointed without its serializer (an earlier version): it restores into the LMDB backend only`);
    }
    out[name] = { descriptor, pairs };
  }
  return out;
}

/**
 * Reads a copied LMDB environment (a checkpoint's `lmdb-env` snapshot) into canonical tables.
 * Set by the worker when it loads the LMDB backend's module for a restore into the heap
 * backend, so that jobs on the heap backend import lmdb only when they need it.
 */
export type EnvironmentReader = (file: string, uid: string, tables: readonly string[], descriptors: Readonly<Record<string, string>> | undefined,
  overlay: import('./backend.ts').EnvironmentOverlay | undefined) => CanonicalTables;
let environmentReader: EnvironmentReader | null = null;
export function setEnvironmentReader(r: EnvironmentReader): void { environmentReader = r; }
export function readEnvironment(): EnvironmentReader {
  if (environmentReader === null) throw new WeirError('restoring an LMDB checkpoint into the heap backend needs the LMDB module, which was not loaded');
  return environmentReader;
}
