// The producing side of a channel: a ring plus the overdraft that takes frames while the ring is full.

import { copyBytes } from '../bytes.ts';
import type { Codec } from '../codec/codec.ts';
import { FrameKind, MAX_RECORDS_PER_FRAME } from './frames.ts';
import type { RingProducer } from './ring.ts';

export interface HeldFrame {
  readonly kind: number;
  readonly count: number;
  readonly payload: Uint8Array;
  readonly checkpointId: number;
  readonly unaligned: boolean;
}

/**
 * No actor may block its thread (two actors waiting on each other's full rings on two
 * threads is a deadlock), so a frame that does not fit goes to the overdraft, an ordered
 * queue on the heap. An actor whose channels hold overdraft takes no new input until
 * drain() empties them, so the overdraft is bounded by what one call of the actor can
 * emit; `peakBytes` meters it.
 */
export class ChannelWriter {
  readonly ring: RingProducer;
  /** channelKey(): how persisted channel state names this channel. */
  readonly key: string;
  private readonly held: HeldFrame[] = [];
  private head = 0;
  private heldBytes = 0;
  peakBytes = 0;
  framesOverdrawn = 0;
  private view: DataView | undefined;

  /** The ring's data bytes as a DataView, for codecs that encode in place (made on first use). */
  get dataView(): DataView {
    return this.view ??= new DataView(this.ring.data.buffer, this.ring.data.byteOffset, this.ring.data.byteLength);
  }

  constructor(ring: RingProducer, key = '') {
    this.ring = ring;
    this.key = key;
  }

  get hasOverdraft(): boolean {
    return this.head < this.held.length;
  }

  get overdraftBytes(): number {
    return this.heldBytes;
  }

  /**
   * Encodes records[start..end) with a fixed-size codec straight into the ring as one DATA
   * frame, without a copy; false (nothing written) when frames are held or the ring has no
   * room for it: the caller then takes write()'s copying way.
   */
  tryWriteRecords(codec: Codec, records: readonly unknown[], start: number, end: number): boolean {
    const count = end - start;
    const bytes = count * codec.recordBytes!;
    if (this.hasOverdraft || bytes > this.ring.maxPayload || count > MAX_RECORDS_PER_FRAME) return false;
    const at = this.ring.reserve(bytes);
    if (at < 0) return false;
    codec.encodeInto!(records, start, end, this.ring.data, this.dataView, at);
    this.ring.publish(FrameKind.DATA, count, bytes);
    return true;
  }

  /** Writes a frame, or holds a copy of it behind any frames already held: order is kept. */
  write(kind: number, count: number, payload: Uint8Array): void {
    if (!this.hasOverdraft && this.ring.tryWrite(kind, count, payload)) return;
    this.hold({ kind, count, payload: copyBytes(payload), checkpointId: 0, unaligned: false });
  }

  writeBarrier(kind: number, checkpointId: number, unaligned: boolean, payload: Uint8Array): void {
    if (!this.hasOverdraft && this.ring.tryWriteBarrier(checkpointId, unaligned, payload, kind)) return;
    this.hold({ kind, count: 0, payload: copyBytes(payload), checkpointId, unaligned });
  }

  /**
   * An unaligned barrier: it goes ahead of every frame held in overdraft, into the ring at
   * once when there is room for it, else first in line and announced in the priority slot
   * now. Returns the frames it overtook, which the producer persists as channel state.
   */
  writePriorityBarrier(checkpointId: number, timestamp: number, payload: Uint8Array): HeldFrame[] {
    const overtaken = this.held.slice(this.head);
    if (this.ring.tryWriteBarrier(checkpointId, true, payload)) return overtaken;
    const frame: HeldFrame = { kind: FrameKind.BARRIER, count: 0, payload: copyBytes(payload), checkpointId, unaligned: true };
    if (!this.hasOverdraft) this.ring.setWaiting(true);
    if (this.head > 0) this.held[--this.head] = frame;
    else this.held.unshift(frame);
    this.heldBytes += frame.payload.byteLength;
    this.ring.announceNext(checkpointId, true, timestamp, payload.byteLength);
    return overtaken;
  }

  /** Whether barrier `id` still waits behind held frames. */
  holdsBarrier(checkpointId: number): boolean {
    for (let i = this.head; i < this.held.length; i++) {
      const f = this.held[i]!;
      if (f.kind === FrameKind.BARRIER && f.checkpointId === checkpointId) return true;
    }
    return false;
  }

  /**
   * The aligned-checkpoint timeout expired while barrier `id` waits behind held frames: it
   * moves ahead of them as an unaligned barrier. Returns the frames it overtook, or null
   * when it is no longer held.
   */
  promoteBarrier(checkpointId: number, timestamp: number, payload: Uint8Array): HeldFrame[] | null {
    let at = -1;
    for (let i = this.head; i < this.held.length; i++) {
      const f = this.held[i]!;
      if (f.kind === FrameKind.BARRIER && f.checkpointId === checkpointId) { at = i; break; }
    }
    if (at < 0) return null;
    const overtaken = this.held.slice(this.head, at);
    this.heldBytes -= this.held[at]!.payload.byteLength;
    this.held.splice(at, 1);
    if (this.head === this.held.length) {
      this.held.length = 0;
      this.head = 0;
      this.ring.setWaiting(false);
    }
    this.writePriorityBarrier(checkpointId, timestamp, payload);
    return overtaken;
  }

  private hold(frame: HeldFrame): void {
    if (frame.payload.byteLength > this.ring.maxPayload) {
      throw new RangeError(
        `frame of ${frame.payload.byteLength} bytes exceeds ring capacity ${this.ring.capacity}; raise the ring size`);
    }
    if (!this.hasOverdraft) this.ring.setWaiting(true);
    this.held.push(frame);
    this.heldBytes += frame.payload.byteLength;
    this.framesOverdrawn++;
    if (this.heldBytes > this.peakBytes) this.peakBytes = this.heldBytes;
  }

  /** Whether drain() would move something now: the ring has room for the first held frame (or its PAD). */
  canDrain(): boolean {
    return this.hasOverdraft && this.ring.canWrite(this.held[this.head]!.payload.byteLength);
  }

  /** Moves held frames into the ring while they fit; true when nothing is held any more. */
  drain(): boolean {
    this.ring.retryAnnouncement();
    while (this.head < this.held.length) {
      const f = this.held[this.head]!;
      const ok = f.kind === FrameKind.BARRIER
        ? this.ring.tryWriteBarrier(f.checkpointId, f.unaligned, f.payload, f.kind)
        : this.ring.tryWrite(f.kind, f.count, f.payload);
      if (!ok) return false;
      this.heldBytes -= f.payload.byteLength;
      this.held[this.head++] = undefined as unknown as HeldFrame;
    }
    this.held.length = 0;
    this.head = 0;
    this.ring.setWaiting(false);
    return true;
  }

}
