// Operator state (non-keyed): named lists per operator subtask, each with the rule that redistributes it on a rescale.

/**
 * As Flink's: 'even-split' gives each new subtask a share of all the lists' items (getListState),
 * 'union' gives every subtask all of them (getUnionListState), 'broadcast' keeps one copy, the
 * same in every subtask (broadcast state). Rescaling applies it; at the same parallelism each
 * subtask gets its own list back.
 */
export type Redistribution = 'even-split' | 'union' | 'broadcast';
export const REDISTRIBUTIONS: readonly Redistribution[] = ['even-split', 'union', 'broadcast'];

export interface OperatorListState<T> {
  get(): readonly T[];
  add(item: T): void;
  update(items: readonly T[]): void;
  clear(): void;
}

/** What a checkpoint holds of one operator subtask's lists: plain data. */
export type OperatorStateSnapshot = Record<string, { readonly redistribution: Redistribution; readonly items: readonly unknown[] }>;

export class OperatorStateStore {
  private readonly lists = new Map<string, { redistribution: Redistribution; items: unknown[] }>();
  private readonly uid: string;

  constructor(uid: string) {
    this.uid = uid;
  }

  list<T>(name: string, redistribution: Redistribution = 'even-split'): OperatorListState<T> {
    if (typeof name !== 'string' || name === '') throw new TypeError(`operator '${this.uid}': operatorState needs a name`);
    if (!REDISTRIBUTIONS.includes(redistribution)) {
      throw new TypeError(`operator '${this.uid}': operator state '${name}' redistribution must be one of ${REDISTRIBUTIONS.join(', ')}, got ${String(redistribution)}`);
    }
    let l = this.lists.get(name);
    if (l === undefined) this.lists.set(name, (l = { redistribution, items: [] }));
    else if (l.redistribution !== redistribution) {
      throw new TypeError(`operator '${this.uid}': operator state '${name}' is declared ${l.redistribution} and ${redistribution}`);
    }
    // Looked up on every call: a restore (before open) replaces the lists behind handles taken earlier.
    const items = () => this.lists.get(name)!;
    return {
      get: () => items().items as T[],
      add: (item) => { items().items.push(item); },
      update: (next) => { items().items = [...next]; },
      clear: () => { items().items = []; },
    };
  }

  get empty(): boolean {
    return this.lists.size === 0;
  }

  /** A copy as of now (items are structured-cloned when the checkpoint is serialized). */
  snapshot(): OperatorStateSnapshot {
    const out: Record<string, { redistribution: Redistribution; items: unknown[] }> = {};
    for (const [name, l] of this.lists) out[name] = { redistribution: l.redistribution, items: [...l.items] };
    return out;
  }

  restore(s: OperatorStateSnapshot): void {
    for (const [name, l] of Object.entries(s)) {
      const known = this.lists.get(name);
      if (known !== undefined && known.redistribution !== l.redistribution) {
        throw new TypeError(`operator '${this.uid}': operator state '${name}' was checkpointed as ${l.redistribution}, now declared ${known.redistribution}`);
      }
      this.lists.set(name, { redistribution: l.redistribution, items: [...l.items] });
    }
  }
}

/**
 * Subtask `subtask` of `parallelism`'s lists on a rescale, from every old subtask's lists (in
 * old subtask order), as Flink repartitions: even-split deals the items of all old lists out
 * in contiguous shares, union gives each subtask all of them, broadcast gives subtask k old
 * subtask (k mod old parallelism)'s copy.
 */
export function redistributeLists(parts: readonly { readonly subtask: number; readonly parallelism: number; readonly lists: OperatorStateSnapshot | undefined }[],
  subtask: number, parallelism: number): OperatorStateSnapshot {
  const names = new Set(parts.flatMap((p) => Object.keys(p.lists ?? {})));
  const out: Record<string, { redistribution: Redistribution; items: unknown[] }> = {};
  for (const name of names) {
    const of = parts.filter((p) => p.lists?.[name] !== undefined).map((p) => ({ subtask: p.subtask, list: p.lists![name]! }));
    const redistribution = of[0]!.list.redistribution;
    const clash = of.find((x) => x.list.redistribution !== redistribution);
    if (clash !== undefined) throw new TypeError(`operator state '${name}' is ${redistribution} in one old subtask and ${clash.list.redistribution} in another`);
    let items: unknown[];
    if (redistribution === 'union') items = of.flatMap((x) => x.list.items);
    else if (redistribution === 'broadcast') {
      const oldParallelism = parts[0]!.parallelism;
      items = [...(of.find((x) => x.subtask === subtask % oldParallelism)?.list.items ?? of[0]!.list.items)];
    } else {
      const all = of.flatMap((x) => x.list.items);
      items = all.slice(Math.floor((all.length * subtask) / parallelism), Math.floor((all.length * (subtask + 1)) / parallelism));
    }
    out[name] = { redistribution, items };
  }
  return out;
}
