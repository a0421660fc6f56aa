// Aligned barrier handling as a pure state machine: one class per state, each event returns the next state and what to do.

/** An input channel of the gate, by index. */
export type Channel = number;

export type BarrierEvent =
  /** A BARRIER frame of checkpoint `id` read in-band on `ch`. */
  | { readonly kind: 'barrier'; readonly ch: Channel; readonly id: number }
  /** A CANCEL_BARRIER frame: upstream gave checkpoint `id` up. */
  | { readonly kind: 'cancel'; readonly ch: Channel; readonly id: number }
  /** END_OF_PARTITION read on `ch`: it counts as aligned from now on. */
  | { readonly kind: 'ended'; readonly ch: Channel }
  /** The coordinator aborted checkpoint `id` (timeout, a decline elsewhere). */
  | { readonly kind: 'abort'; readonly id: number };

export type BarrierAction =
  /** Read nothing more from `ch` until unblocked: it delivered the barrier being aligned. */
  | { readonly kind: 'block'; readonly ch: Channel }
  | { readonly kind: 'unblockAll' }
  /** Every input delivered barrier `id` (or ended): snapshot the chain, then forward the barrier. */
  | { readonly kind: 'snapshot'; readonly id: number }
  /** Tell the coordinator this subtask will not take part in `id`. */
  | { readonly kind: 'decline'; readonly id: number; readonly reason: string }
  /** Send CANCEL_BARRIER `id` downstream, so operators aligning on it let go. */
  | { readonly kind: 'forwardCancel'; readonly id: number };

export interface ChannelView {
  readonly ended: boolean;
}

export interface BarrierHandlerState {
  readonly name: string;
  /** The newest checkpoint this subtask has finished with (snapshotted, declined or aborted). */
  readonly latest: number;
  on(e: BarrierEvent, channels: readonly ChannelView[]): { next: BarrierHandlerState; actions: BarrierAction[] };
}

const allAligned = (seen: ReadonlySet<Channel>, channels: readonly ChannelView[]) =>
  channels.every((c, i) => c.ended || seen.has(i));

/** No checkpoint in progress: the first barrier of a newer checkpoint starts one. */
export class WaitingForFirstBarrier implements BarrierHandlerState {
  readonly name = 'WaitingForFirstBarrier';
  readonly latest: number;

  constructor(latest = 0) {
    this.latest = latest;
  }

  on(e: BarrierEvent, channels: readonly ChannelView[]): { next: BarrierHandlerState; actions: BarrierAction[] } {
    switch (e.kind) {
      case 'barrier':
        // An older barrier: of a checkpoint aborted or subsumed here, nothing to align.
        if (e.id <= this.latest) return { next: this, actions: [] };
        return startAlignment(e.id, e.ch, channels);
      case 'cancel':
        if (e.id <= this.latest) return { next: this, actions: [] };
        return { next: new WaitingForFirstBarrier(e.id), actions: [{ kind: 'forwardCancel', id: e.id }] };
      case 'abort':
        return { next: e.id > this.latest ? new WaitingForFirstBarrier(e.id) : this, actions: [] };
      case 'ended':
        return { next: this, actions: [] };
    }
  }
}

function startAlignment(id: number, ch: Channel, channels: readonly ChannelView[]): { next: BarrierHandlerState; actions: BarrierAction[] } {
  const seen = new Set([ch]);
  if (allAligned(seen, channels)) return { next: new WaitingForFirstBarrier(id), actions: [{ kind: 'snapshot', id }] };
  return { next: new CollectingBarriers(id, seen), actions: [{ kind: 'block', ch }] };
}

/**
 * Barrier `id` came on some inputs, which are blocked so that no record after it is
 * processed before the snapshot; the others are read until their barrier comes too.
 */
export class CollectingBarriers implements BarrierHandlerState {
  readonly name = 'CollectingBarriers';
  readonly id: number;
  private readonly seen: ReadonlySet<Channel>;

  constructor(id: number, seen: ReadonlySet<Channel>) {
    this.id = id;
    this.seen = seen;
  }

  get latest(): number {
    return this.id - 1;
  }

  on(e: BarrierEvent, channels: readonly ChannelView[]): { next: BarrierHandlerState; actions: BarrierAction[] } {
    switch (e.kind) {
      case 'barrier': {
        if (e.id < this.id) return { next: this, actions: [] };
        if (e.id > this.id) {
          // A newer checkpoint overtook this one on some input: this one cannot complete here.
          const started = startAlignment(e.id, e.ch, channels);
          return {
            next: started.next,
            actions: [{ kind: 'unblockAll' }, { kind: 'decline', id: this.id, reason: `barrier ${e.id} came before barrier ${this.id} on every input` }, ...started.actions],
          };
        }
        const seen = new Set(this.seen).add(e.ch);
        if (allAligned(seen, channels)) {
          return { next: new WaitingForFirstBarrier(this.id), actions: [{ kind: 'unblockAll' }, { kind: 'snapshot', id: this.id }] };
        }
        return { next: new CollectingBarriers(this.id, seen), actions: [{ kind: 'block', ch: e.ch }] };
      }
      case 'ended':
        if (allAligned(this.seen, channels)) {
          return { next: new WaitingForFirstBarrier(this.id), actions: [{ kind: 'unblockAll' }, { kind: 'snapshot', id: this.id }] };
        }
        return { next: this, actions: [] };
      case 'cancel':
        if (e.id < this.id) return { next: this, actions: [] };
        return { next: new WaitingForFirstBarrier(e.id), actions: [{ kind: 'unblockAll' }, { kind: 'forwardCancel', id: e.id }] };
      case 'abort':
        if (e.id < this.id) return { next: this, actions: [] };
        return { next: new WaitingForFirstBarrier(e.id), actions: [{ kind: 'unblockAll' }] };
    }
  }
}
