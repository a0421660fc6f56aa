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
