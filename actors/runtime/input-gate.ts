// The consuming end of a subtask's network inputs: reads frames round-robin, decodes records, tracks watermarks.
import { FrameKind, decodeBarrier, decodeWatermark, frameKindName } from '../../core/channel/frames.ts';
import { before, type RingConsumer } from '../../core/channel/ring.ts';
import type { Codec } from '../../core/codec/codec.ts';
import { WaitingForFirstBarrier } from '../../core/checkpoint/barrier-handler.ts';
import type { BarrierEvent, BarrierHandlerState } from '../../core/checkpoint/barrier-handler.ts';
import { WeirError } from '../../core/errors.ts';

export interface InputChannel {
  readonly consumer: RingConsumer;
  readonly codec: Codec;
  /** For error messages: which edge and producer subtask this channel comes from. */
  readonly label: string;
  watermark: number;
  ended: boolean;
  /** Delivered the barrier being aligned: not read until the snapshot (or an abort). */
  blocked: boolean;
}

/** What the gate asks of its subtask when the barrier handler says so. */
export interface BarrierCallbacks {
  /** `alignmentMs`: from the first barrier of the checkpoint on any input to the last. */
  snapshot(checkpointId: number, alignmentMs: number): void;
  decline(checkpointId: number, reason: string): void;
  forwardCancel(checkpointId: number): void;
}

/** Frames read from one channel before moving to the next, so no input starves the others. */
const FRAMES_PER_VISIT = 8;
/** Frames read in one step of the actor before the scheduler runs the others. */
const FRAMES_PER_STEP = 64;

export class InputGate {
  readonly channels: InputChannel[];
  private emit: (v: unknown) => void = () => {};
  private onWatermark: (ts: number) => void = () => {};
  private watermark = -Infinity;
  private next = 0;
  private open: number;
  private readonly uid: string;
  private readonly subtask: number;
  private barriers: BarrierHandlerState = new WaitingForFirstBarrier();
  private callbacks: BarrierCallbacks | null = null;
  /** 'at-least-once': barriers are counted but block nothing, as Flink's CheckpointingMode says. */
  private readonly blocking: boolean;
  /** When the alignment in progress began (performance.now()), or -1. */
  private alignedSince = -1;

  constructor(channels: InputChannel[], uid: string, subtask: number, blocking = true) {
    this.channels = channels;
    this.open = channels.length;
    this.uid = uid;
    this.subtask = subtask;
    this.blocking = blocking;
  }

  onBarriers(callbacks: BarrierCallbacks): void {
    this.callbacks = callbacks;
  }

  /** The coordinator gave checkpoint `id` up: an alignment on it (or an older one) lets go. */
  abort(id: number): void {
    this.dispatch({ kind: 'abort', id });
  }

  private dispatch(e: BarrierEvent): void {
    const r = this.barriers.on(e, this.channels);
    this.barriers = r.next;
    for (const a of r.actions) {
      switch (a.kind) {
        case 'block':
          if (this.alignedSince < 0) this.alignedSince = performance.now();
          if (this.blocking) this.channels[a.ch]!.blocked = true;
          break;
        case 'unblockAll': for (const ch of this.channels) ch.blocked = false; break;
        case 'snapshot': {
          const alignmentMs = this.alignedSince < 0 ? 0 : performance.now() - this.alignedSince;
          this.alignedSince = -1;
          this.callbacks?.snapshot(a.id, alignmentMs);
          break;
        }
        case 'decline': this.alignedSince = -1; this.callbacks?.decline(a.id, a.reason); break;
        case 'forwardCancel': this.callbacks?.forwardCancel(a.id); break;
      }
    }
  }

  connect(emit: (v: unknown) => void, onWatermark: (ts: number) => void): void {
    this.emit = emit;
    this.onWatermark = onWatermark;
  }

  get finished(): boolean {
    return this.open === 0;
  }

  /** Reads frames round-robin until the step's budget is spent, nothing is left, or an output overdraws. */
  step(overdrawn: () => boolean): boolean {
    let frames = 0;
    let idle = 0;
    const n = this.channels.length;
    while (frames < FRAMES_PER_STEP && idle < n && this.open > 0) {
      const index = this.next;
      const ch = this.channels[index]!;
      this.next = this.next + 1 === n ? 0 : this.next + 1;
      let read = 0;
      while (!ch.ended && !ch.blocked && read < FRAMES_PER_VISIT && ch.consumer.next()) {
        this.handle(ch, index);
        read++;
        if (overdrawn()) return true;
      }
      frames += read;
      idle = read === 0 ? idle + 1 : 0;
    }
    return frames > 0;
  }

  private handle(ch: InputChannel, index: number): void {
    const c = ch.consumer;
    switch (c.kind) {
      case FrameKind.DATA: {
        const payload = c.payload();
        // Records are handed to the operators before the frame is released: the payload may
        // be a view of the ring.
        try {
          ch.codec.decode(payload, c.count, this.emit);
        } catch (err) {
          if (err instanceof WeirError) throw err;
          throw new WeirError(`could not decode a frame from ${ch.label}: ${(err as Error).message}`,
            { uid: this.uid, subtask: this.subtask, position: c.describeFrame(), cause: err });
        }
        c.consume();
        return;
      }
      case FrameKind.WATERMARK:
        ch.watermark = Math.max(ch.watermark, decodeWatermark(c.payload()));
        c.consume();
        this.advanceWatermark();
        return;
      case FrameKind.END_OF_PARTITION:
        ch.ended = true;
        this.open--;
        c.consume();
        this.advanceWatermark();
        this.dispatch({ kind: 'ended', ch: index });
        return;
      case FrameKind.BARRIER: {
        const id = decodeBarrier(c.payload()).checkpointId;
        // Handled before it is consumed: a consumer past an announced barrier it has not
        // handled breaks the ring's invariant (ring.ts, poll).
        c.markHandled(id);
        c.consume();
        this.dispatch({ kind: 'barrier', ch: index, id });
        return;
      }
      case FrameKind.CANCEL_BARRIER: {
        const id = decodeBarrier(c.payload()).checkpointId;
        c.markHandled(id);
        c.consume();
        this.dispatch({ kind: 'cancel', ch: index, id });
        return;
      }
      default:
        throw new WeirError(`unexpected ${frameKindName(c.kind)} frame from ${ch.label}`,
          { uid: this.uid, subtask: this.subtask, position: c.describeFrame() });
    }
  }

  /** An actor's watermark is the minimum over its inputs; an ended input no longer holds it back. */
  private advanceWatermark(): void {
    let min = Infinity;
    for (const ch of this.channels) if (!ch.ended && ch.watermark < min) min = ch.watermark;
    if (min > this.watermark) {
      this.watermark = min;
      this.onWatermark(min);
    }
  }

  hasInput(): boolean {
    for (const ch of this.channels) {
      if (ch.ended || ch.blocked) continue;
      const c = ch.consumer;
      if (before(c.position, c.poll()) || c.announcement() !== null) return true;
    }
    return false;
  }
}
