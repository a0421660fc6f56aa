// Range scans of one LMDB state table merged with its write cache: what MapState iteration, removeAll and TTL cleanup see.

import type { Database } from 'lmdb';
import { lmdbKeyCopy, taggedKey } from './lmdb-keys.ts';
import type { CacheEntry } from './write-cache.ts';

/** A table as a scan sees it. */
export interface ScanSource<O> {
  readonly db: Database<Uint8Array, Buffer>;
  readonly tag: string;
  cached(key: string): CacheEntry<O> | undefined;
}

export interface ScanItem<O> {
  /** Tagged cache key. */
  readonly key: string;
  /** The cached entry (dirty or clean), which wins over LMDB's bytes. */
  readonly entry: CacheEntry<O> | undefined;
  readonly bytes: Uint8Array | undefined;
}

export interface ScanBatch<O> {
  readonly items: ScanItem<O>[];
  /** LMDB rows read, including rows a pending removal hides. */
  readonly rows: number;
  /** The last row's key when the batch stopped at its limit (where the next batch starts); undefined when the range is done. */
  readonly last: string | undefined;
}

/**
 * Up to `limit` LMDB rows with keys in (after, end), or (after, end] with inclusiveEnd (an
 * undefined bound is open), each replaced by its cache entry if it has one and skipped if
 * that is a pending removal; plus the `pending` writes that LMDB does not hold yet and that
 * fall within the span the rows cover, in key order. Clean cache entries equal what LMDB
 * holds, so only dirty entries need merging: `pending` lists those of the scanned range.
 */
export function scanRange<O>(
  source: ScanSource<O>, after: string | undefined, end: string | undefined, inclusiveEnd: boolean, limit: number,
  pending: readonly CacheEntry<O>[] | undefined,
): ScanBatch<O> {
  const items: ScanItem<O>[] = [];
  let rows = 0;
  let lastRow: string | undefined;
  const range = source.db.getRange({
    start: after === undefined ? undefined : lmdbKeyCopy(after),
    exclusiveStart: true,
    end: end === undefined ? undefined : lmdbKeyCopy(end),
    inclusiveEnd,
    limit,
  });
  for (const { key: keyBytes, value } of range) {
    const key = taggedKey(source.tag, keyBytes);
    rows++;
    lastRow = key;
    const entry = source.cached(key);
    if (entry === undefined) items.push({ key, entry: undefined, bytes: value });
    else if (entry.present) items.push({ key, entry, bytes: undefined });
  }
  const last = rows === limit ? lastRow : undefined;
  if (pending !== undefined && pending.length > 0) {
    const spanEnd = last ?? end;
    const spanEndIncluded = last !== undefined || inclusiveEnd;
    const rowKeys = new Set(items.map((item) => item.key));
    let added = false;
    for (const entry of pending) {
      const k = entry.key;
      if (!entry.present || !entry.dirty || (after !== undefined && k <= after)) continue;
      if (spanEnd !== undefined && (k > spanEnd || (k === spanEnd && !spanEndIncluded))) continue;
      if (rowKeys.has(k)) continue; // LMDB holds it: its row above took the entry
      items.push({ key: k, entry, bytes: undefined });
      added = true;
    }
    if (added) items.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
  return { items, rows, last };
}
