// The consuming end of a subtask's network inputs: reads frames round-robin, decodes records, tracks watermarks.
import { FrameKind, decodeBarrier, decodeWatermark, frameKindName } from '../../core/channel/frames.ts';
import { before, type RingConsumer } from '../../core/channel/ring.ts';
import type { Codec } from '../../core/codec/codec.ts';
import { WeirError } from '../../core/errors.ts';

export interface InputChannel {
  readonly consumer: RingConsumer;
  readonly codec: Codec;
  /** For error messages: which edge and producer subtask this channel comes from. */
  readonly label: string;
  watermark: number;
  ended: boolean;
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

  constructor(channels: InputChannel[], uid: string, subtask: number) {
    this.channels = channels;
    this.open = channels.length;
    this.uid = uid;
    this.subtask = subtask;
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
      const ch = this.channels[this.next]!;
      this.next = this.next + 1 === n ? 0 : this.next + 1;
      let read = 0;
      while (!ch.ended && read < FRAMES_PER_VISIT && ch.consumer.next()) {
        this.handle(ch);
        read++;
        if (overdrawn()) return true;
      }
      frames += read;
      idle = read === 0 ? idle + 1 : 0;
    }
    return frames > 0;
  }

  private handle(ch: InputChannel): void {
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
        return;
      case FrameKind.BARRIER:
        // Checkpoints are not triggered yet; the barrier is acknowledged in the ring only.
        c.markHandled(decodeBarrier(c.payload()).checkpointId);
        c.consume();
        return;
      case FrameKind.CANCEL_BARRIER:
        c.consume();
        return;
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
      if (ch.ended) continue;
      const c = ch.consumer;
      if (before(c.position, c.poll()) || c.announcement() !== null) return true;
    }
    return false;
  }
}
