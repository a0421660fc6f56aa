// The single-producer/single-consumer byte ring in a SharedArrayBuffer that carries frames between two subtasks.

import { Doorbell } from './doorbell.ts';
import {
  FRAME_HEADER_BYTES, FrameKind, MAX_RECORDS_PER_FRAME, countOf, decodeBarrier, frameKindName, frameSpan, kindOf,
  packKindWord,
} from './frames.ts';

/**
 * Layout of one ring's SharedArrayBuffer (offsets in bytes; each group on its own 64-byte
 * line so producer and consumer do not write the same cache line):
 *
 *   0    +-------------------------------+  producer's line
 *        | WRITE_POS   u32               |  bytes published, free-running mod 2^32
 *   64   +-------------------------------+  consumer's line
 *        | READ_POS    u32               |  bytes consumed, free-running mod 2^32
 *        | HANDLED_ID  i32               |  last announced checkpoint the consumer handled
 *   128  +-------------------------------+  priority barrier slot (producer writes)
 *        | SLOT_SEQ    u32  seqlock      |  odd while being written
 *        | SLOT_ID     i32  checkpoint   |  0 = never announced
 *        | SLOT_POS    u32  position b   |  where the BARRIER frame starts
 *        | SLOT_FLAGS  u32  bit0 unaligned
 *   144  | SLOT_TIME   f64  trigger time (epoch ms, the coordinator's clock)
 *   192  +-------------------------------+
 *        | WAITING     i32               |  1 while the producer holds overdraft
 *        | CAPACITY    u32               |  data bytes, a power of two
 *   256  +-------------------------------+
 *        | data: CAPACITY bytes of frames (see frames.ts), 8-byte aligned;   |
 *        | a frame never wraps: a PAD frame fills the tail instead          |
 *        +-------------------------------------------------------------------+
 *
 * Positions are uint32 counters compared modulo 2^32: used = (write - read) >>> 0, which is
 * correct as long as capacity <= 2^30. BigInt atomics would allocate on every access.
 */
const WRITE_POS = 0;
const READ_POS = 16;
const HANDLED_ID = 17;
const SLOT_SEQ = 32;
const SLOT_ID = 33;
const SLOT_POS = 34;
const SLOT_FLAGS = 35;
/** Float64 index of SLOT_TIME (byte 144). */
const SLOT_TIME = 18;
const WAITING = 48;
const CAPACITY = 49;
export const RING_HEADER_BYTES = 256;
/** Reads of the slot before a consumer treats it as not announced yet (see announcement()). */
const SEQLOCK_TRIES = 64;
/** Word index of SLOT_SEQ in the header, for tests that play a producer stopped mid-write. */
export const SLOT_SEQ_WORD = SLOT_SEQ;
export const MIN_RING_CAPACITY = 64;
export const MAX_RING_CAPACITY = 1 << 30;

export interface Announcement {
  readonly checkpointId: number;
  /** Ring position of the BARRIER frame. */
  readonly position: number;
  readonly unaligned: boolean;
  /** When the checkpoint was triggered (epoch ms): the aligned-checkpoint timeout counts from it. */
  readonly timestamp: number;
}

/** Allocates the shared memory of a ring; capacity is rounded up to a power of two. */
export function allocateRing(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < MIN_RING_CAPACITY || capacity > MAX_RING_CAPACITY) {
    throw new RangeError(
      `ring capacity must be an integer in [${MIN_RING_CAPACITY}, ${MAX_RING_CAPACITY}] bytes, got ${capacity}`);
  }
  const cap = 2 ** Math.ceil(Math.log2(capacity));
  const sab = new SharedArrayBuffer(RING_HEADER_BYTES + cap);
  new Int32Array(sab, 0, RING_HEADER_BYTES / 4)[CAPACITY] = cap;
  return sab;
}

/** a is strictly before b on the ring's modular number line. */
export function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

class RingView {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  protected readonly mask: number;
  protected readonly header: Int32Array;
  /** The header as float64s, for SLOT_TIME (written and read under the slot's seqlock). */
  protected readonly header64: Float64Array;
  /** Data bytes; frame headers are read through `words` (data is 8-byte aligned). */
  readonly data: Uint8Array;
  protected readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.header = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
    this.header64 = new Float64Array(buffer, 0, RING_HEADER_BYTES / 8);
    this.capacity = this.header[CAPACITY]! >>> 0;
    if (this.capacity === 0 || (this.capacity & (this.capacity - 1)) !== 0
      || buffer.byteLength !== RING_HEADER_BYTES + this.capacity) {
      throw new Error('not a ring buffer: bad capacity word');
    }
    this.mask = this.capacity - 1;
    this.data = new Uint8Array(buffer, RING_HEADER_BYTES, this.capacity);
    this.words = new Int32Array(buffer, RING_HEADER_BYTES, this.capacity / 4);
  }

  /** Bytes published and not yet consumed, as seen now. */
  usedBytes(): number {
    return (Atomics.load(this.header, WRITE_POS) - Atomics.load(this.header, READ_POS)) >>> 0;
  }
}

/** The producer end. Exactly one thread may hold it. */
export class RingProducer extends RingView {
  private write: number;
  private readCache: number;
  private pendingAnnouncement: Announcement | null = null;
  /** Rung after each publish: the consumer's worker doorbell. */
  wake: Doorbell | null = null;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.write = Atomics.load(this.header, WRITE_POS) >>> 0;
    this.readCache = Atomics.load(this.header, READ_POS) >>> 0;
  }

  /** Largest payload a single frame may carry in this ring. */
  get maxPayload(): number {
    return this.capacity - FRAME_HEADER_BYTES;
  }

  private free(): number {
    return this.capacity - ((this.write - this.readCache) >>> 0);
  }

  /**
   * Reserves room for a frame of `payloadLength` bytes and returns the data offset of its
   * payload, or -1 when the ring is full. Writes a PAD frame first if the frame would wrap.
   * Nothing but a PAD is visible to the consumer until publish().
   */
  reserve(payloadLength: number): number {
    const span = frameSpan(payloadLength);
    if (span > this.capacity) {
      throw new RangeError(`frame of ${payloadLength} bytes exceeds ring capacity ${this.capacity}`);
    }
    let idx = this.write & this.mask;
    const tail = this.capacity - idx;
    if (span > tail) {
      // The frame would wrap: fill the tail with a PAD frame and publish it on its own, so
      // the consumer can release it even when the PAD and the frame do not fit together.
      if (tail > this.free()) {
        this.readCache = Atomics.load(this.header, READ_POS) >>> 0;
        if (tail > this.free()) return -1;
      }
      this.words[idx >> 2] = tail - FRAME_HEADER_BYTES;
      this.words[(idx >> 2) + 1] = packKindWord(FrameKind.PAD, 0);
      this.write = (this.write + tail) >>> 0;
      Atomics.store(this.header, WRITE_POS, this.write | 0);
      this.wake?.ring();
      idx = 0;
    }
    if (span > this.free()) {
      this.readCache = Atomics.load(this.header, READ_POS) >>> 0;
      if (span > this.free()) return -1;
    }
    return idx + FRAME_HEADER_BYTES;
  }

  /** Position the next reserved frame starts at (after any PAD). Valid after reserve(). */
  get reservedPosition(): number {
    return this.write;
  }

  /** Publishes the frame reserved last; its payload must already be written. */
  publish(kind: number, count: number, payloadLength: number): void {
    const idx = this.write & this.mask;
    this.words[idx >> 2] = payloadLength;
    this.words[(idx >> 2) + 1] = packKindWord(kind, count);
    this.write = (this.write + frameSpan(payloadLength)) >>> 0;
    this.flushAnnouncement();
    // The store is sequentially consistent: every payload and slot write above is visible
    // to a consumer that loads this position.
    Atomics.store(this.header, WRITE_POS, this.write | 0);
    this.wake?.ring();
  }

  /** Copies a whole frame in; false when the ring is full (the caller keeps it in overdraft). */
  tryWrite(kind: number, count: number, payload: Uint8Array): boolean {
    if (count > MAX_RECORDS_PER_FRAME) throw new RangeError(`a frame holds at most ${MAX_RECORDS_PER_FRAME} records`);
    const at = this.reserve(payload.byteLength);
    if (at < 0) return false;
    this.data.set(payload, at);
    this.publish(kind, count, payload.byteLength);
    return true;
  }

  /**
   * Writes a BARRIER frame and announces it in the priority slot before the write position
   * can pass it. Returns false when the ring is full.
   */
  tryWriteBarrier(checkpointId: number, unaligned: boolean, payload: Uint8Array, kind: number = FrameKind.BARRIER): boolean {
    const at = this.reserve(payload.byteLength);
    if (at < 0) return false;
    this.data.set(payload, at);
    if (kind === FrameKind.BARRIER) {
      this.pendingAnnouncement = { checkpointId, position: this.write, unaligned, timestamp: decodeBarrier(payload).timestamp };
    }
    this.publish(kind, 0, payload.byteLength);
    return true;
  }

  /**
   * Announces now, before its bytes are in the ring, a barrier that will be the next frame
   * written (it goes ahead of everything held in overdraft): its position is the write
   * position, or the start of the ring when a PAD must fill the tail first. Nothing may be
   * written to this ring before that barrier. Returns the announced position.
   */
  announceNext(checkpointId: number, unaligned: boolean, timestamp: number, payloadLength: number): number {
    const tail = this.capacity - (this.write & this.mask);
    const position = frameSpan(payloadLength) > tail ? (this.write + tail) >>> 0 : this.write;
    this.pendingAnnouncement = { checkpointId, position, unaligned, timestamp };
    this.flushAnnouncement();
    // No publish follows: the consumer may be asleep on a ring it cannot read on.
    this.wake?.ring();
    return position;
  }

  /** Puts a pending announcement into the slot if the consumer has handled the previous one; true when none is left pending. */
  retryAnnouncement(): boolean {
    if (this.pendingAnnouncement === null) return true;
    this.flushAnnouncement();
    if (this.pendingAnnouncement !== null) return false;
    this.wake?.ring();
    return true;
  }

  /**
   * The slot holds one announcement. It is overwritten only once the consumer has handled
   * the previous one; otherwise the newer barrier stays unannounced and is found in-band,
   * where the BARRIER frame remains the record of truth. This only happens with two
   * barriers in one ring at once (a declined checkpoint followed by the next).
   */
  private flushAnnouncement(): void {
    const a = this.pendingAnnouncement;
    if (a === null) return;
    const handled = Atomics.load(this.header, HANDLED_ID);
    const current = Atomics.load(this.header, SLOT_ID);
    if (handled >= a.checkpointId) {
      this.pendingAnnouncement = null;
      return;
    }
    if (current > handled) return;
    const seq = Atomics.load(this.header, SLOT_SEQ);
    Atomics.store(this.header, SLOT_SEQ, seq + 1);
    Atomics.store(this.header, SLOT_ID, a.checkpointId);
    Atomics.store(this.header, SLOT_POS, a.position | 0);
    Atomics.store(this.header, SLOT_FLAGS, a.unaligned ? 1 : 0);
    this.header64[SLOT_TIME] = a.timestamp;
    Atomics.store(this.header, SLOT_SEQ, seq + 2);
    this.pendingAnnouncement = null;
  }

  /** Marks that frames wait in overdraft, so the consumer rings our doorbell when it frees space. */
  setWaiting(waiting: boolean): void {
    Atomics.store(this.header, WAITING, waiting ? 1 : 0);
  }

  /**
   * Whether a frame of this payload, or at least the PAD that must precede it, can be written
   * now: a reserve() would make progress.
   */
  canWrite(payloadLength: number): boolean {
    this.readCache = Atomics.load(this.header, READ_POS) >>> 0;
    const span = frameSpan(payloadLength);
    const tail = this.capacity - (this.write & this.mask);
    return this.free() >= (span > tail ? tail : span);
  }

  /** Free bytes as of a fresh read of the consumer's position. */
  freeBytes(): number {
    this.readCache = Atomics.load(this.header, READ_POS) >>> 0;
    return this.free();
  }
}

/** The consumer end. Exactly one thread may hold it. */
export class RingConsumer extends RingView {
  private read: number;
  private limit: number;
  private handled: number;
  /** Rung after consuming when the producer waits for space: the producer's worker doorbell. */
  wake: Doorbell | null = null;

  // The frame at the read position, valid after a true next().
  kind = 0;
  count = 0;
  payloadOffset = 0;
  payloadLength = 0;
  /** Ring position of the current frame. */
  framePosition = 0;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.read = Atomics.load(this.header, READ_POS) >>> 0;
    this.limit = this.read;
    this.handled = Atomics.load(this.header, HANDLED_ID);
  }

  get position(): number {
    return this.read;
  }

  /** The producer's write position as published now. */
  get published(): number {
    return Atomics.load(this.header, WRITE_POS) >>> 0;
  }

  /**
   * Reads the announcement in the priority slot under its seqlock; null when none is
   * pending (never announced, or already handled), or while the producer is writing it.
   *
   * The retries are bounded: a producer terminated between its two SLOT_SEQ stores would
   * otherwise hold this thread forever, out of reach of the cancel word. Answering null
   * then is safe: the producer stores the slot before any WRITE_POS past the barrier
   * (publish), and poll() loads WRITE_POS first, so with no announcement seen the consumer
   * stops at the write position it loaded, which is not past the barrier.
   */
  announcement(): Announcement | null {
    for (let tries = 0; tries < SEQLOCK_TRIES; tries++) {
      const s1 = Atomics.load(this.header, SLOT_SEQ);
      if ((s1 & 1) !== 0) continue;
      const id = Atomics.load(this.header, SLOT_ID);
      const pos = Atomics.load(this.header, SLOT_POS) >>> 0;
      const flags = Atomics.load(this.header, SLOT_FLAGS);
      const timestamp = this.header64[SLOT_TIME]!;
      if (Atomics.load(this.header, SLOT_SEQ) !== s1) continue;
      if (id <= this.handled) return null;
      return { checkpointId: id, position: pos, unaligned: (flags & 1) !== 0, timestamp };
    }
    return null;
  }

  /**
   * Loads the write position, then re-reads the slot (the producer writes them in the
   * opposite order), and sets how far the consumer may go: never past an announced barrier
   * it has not handled.
   */
  poll(): number {
    const write = Atomics.load(this.header, WRITE_POS) >>> 0;
    const a = this.announcement();
    this.limit = a !== null && !before(write, a.position) && !before(a.position, this.read) ? a.position : write;
    if (a !== null && before(a.position, this.read)) {
      throw new Error(`ring invariant broken: consumer at ${this.read} passed announced barrier ${a.checkpointId} at ${a.position}`);
    }
    return this.limit;
  }

  /**
   * Positions on the next frame (skipping PAD frames) if one is available below the limit,
   * polling once when the cached limit is reached. When an announced, unhandled barrier
   * stands at the read position, the frame returned is that BARRIER frame.
   */
  next(): boolean {
    for (;;) {
      // `read` may stand one frame past `limit`: the BARRIER frame at an announced limit is
      // read, and consuming it moves past the limit computed before it.
      if (!before(this.read, this.limit) && !before(this.read, this.poll())) {
        const a = this.announcement();
        if (a === null || a.position !== this.read) return false;
        // The barrier frame itself lies at the limit: it may be read, not passed.
        if (((Atomics.load(this.header, WRITE_POS) - this.read) >>> 0) === 0) return false;
      }
      const idx = this.read & this.mask;
      const length = this.words[idx >> 2]! >>> 0;
      const word = this.words[(idx >> 2) + 1]!;
      if (kindOf(word) === FrameKind.PAD) {
        // Released at once: the producer may be waiting for exactly these bytes.
        this.read = (this.read + FRAME_HEADER_BYTES + length) >>> 0;
        this.release();
        continue;
      }
      this.kind = kindOf(word);
      this.count = countOf(word);
      this.payloadOffset = idx + FRAME_HEADER_BYTES;
      this.payloadLength = length;
      this.framePosition = this.read;
      return true;
    }
  }

  /** The current frame's payload as a view of shared memory (valid until consume()). */
  payload(): Uint8Array {
    return this.data.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /** Releases the current frame to the producer. */
  consume(): void {
    this.read = (this.read + frameSpan(this.payloadLength)) >>> 0;
    this.release();
  }

  private release(): void {
    Atomics.store(this.header, READ_POS, this.read | 0);
    if (this.wake !== null && Atomics.load(this.header, WAITING) !== 0) this.wake.ring();
  }

  /** Records that the consumer has handled (reacted to) the barrier of this checkpoint. */
  markHandled(checkpointId: number): void {
    if (checkpointId > this.handled) {
      this.handled = checkpointId;
      Atomics.store(this.header, HANDLED_ID, checkpointId);
      // A producer holding a newer announcement for the slot may be waiting for exactly this.
      if (this.wake !== null && Atomics.load(this.header, WAITING) !== 0) this.wake.ring();
    }
  }

  /**
   * peekBytes up to an announced barrier position, or to the published write position when
   * the barrier's position lies past it: only the PAD that will fill the tail before the
   * barrier is missing then, and a PAD is never persisted.
   */
  peekUpTo(position: number): Uint8Array {
    const write = Atomics.load(this.header, WRITE_POS) >>> 0;
    return this.peekBytes(before(write, position) ? write : position);
  }

  get handledCheckpoint(): number {
    return this.handled;
  }

  /**
   * Copies the unconsumed bytes [read position, to) without consuming them, as they lie in
   * the ring (frames, PADs and all), unwrapped into one buffer. Unaligned checkpoints
   * persist this as channel state. `to` defaults to the published write position.
   */
  peekBytes(to: number = Atomics.load(this.header, WRITE_POS) >>> 0): Uint8Array {
    const n = (to - this.read) >>> 0;
    if (n > this.usedBytes()) throw new RangeError(`peek past the published position (${n} bytes asked)`);
    const out = new Uint8Array(n);
    const idx = this.read & this.mask;
    const first = Math.min(n, this.capacity - idx);
    out.set(this.data.subarray(idx, idx + first), 0);
    if (first < n) out.set(this.data.subarray(0, n - first), first);
    return out;
  }

  describeFrame(): string {
    return `${frameKindName(this.kind)} frame at ${this.framePosition} (${this.payloadLength} bytes, ${this.count} records)`;
  }
}
