// Channel state of unaligned checkpoints: the in-flight frames a subtask persists, their file, and replay.
import { readFileSync } from 'node:fs';
import { WeirError } from '../errors.ts';
import { FRAME_HEADER_BYTES, FrameKind, countOf, frameKindName, frameSpan, kindOf, packKindWord } from '../channel/frames.ts';
import { v8 } from '../lazy-builtins.ts';

/** The layout of a `<subtask>.channels` file (below). */
export const CHANNEL_STATE_FORMAT = 1;
/**
 * The layout of a persisted frame: the ring's own (frames.ts), 8-byte header and payload
 * padded to 8. Format 2 added DATA_TS (records with event timestamps) and WATERMARK_STATUS
 * frames; a format 1 file holds neither and reads as it did.
 */
export const FRAME_FORMAT = 2;
const FRAME_FORMATS_READ = [1, 2];
const REPLAYED_KINDS: number[] = [FrameKind.DATA, FrameKind.DATA_TS, FrameKind.WATERMARK, FrameKind.WATERMARK_STATUS, FrameKind.END_OF_PARTITION];

/**
 * One channel's in-flight frames, as they lay in the ring or the overdraft: DATA, DATA_TS,
 * WATERMARK, WATERMARK_STATUS and END_OF_PARTITION frames in order (PADs and barriers left out). `skip`: records of the
 * first frame already processed before the snapshot (a frame interrupted between records).
 */
export interface PersistedChannel {
  /** channelKey(): producer uid and output, consumer uid, subtasks. */
  readonly channel: string;
  /** The codec's descriptor: a replay decodes with the codec it was written with, or refuses. */
  readonly codec: string;
  readonly skip: number;
  readonly frames: Uint8Array;
}

/** What one subtask persisted for one unaligned checkpoint: the file `chk-<n>/<task>-<subtask>.channels`. */
export interface ChannelState {
  readonly format: number;
  readonly frameFormat: number;
  /** Input side: frames between each input's read position and its barrier. */
  readonly inputs: readonly PersistedChannel[];
  /** Output side: frames the subtask's own barrier overtook (its overdraft). */
  readonly outputs: readonly PersistedChannel[];
}

export const channelStateFile = (key: string) => `${key}.channels`;

export function persistedBytesOf(s: ChannelState): number {
  let n = 0;
  for (const c of s.inputs) n += c.frames.byteLength;
  for (const c of s.outputs) n += c.frames.byteLength;
  return n;
}

export function encodeChannelState(s: ChannelState): Uint8Array {
  return v8().serialize(s);
}

/** Reads a channel state file; anything but a well-formed one of a known format is an error naming the file. */
export function readChannelState(file: string): ChannelState {
  let s: ChannelState;
  try {
    s = v8().deserialize(readFileSync(file)) as ChannelState;
  } catch (err) {
    throw new WeirError(`cannot read channel state file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const bad = (why: string) => new WeirError(`channel state file ${file} ${why}`);
  if (s === null || typeof s !== 'object' || s.format !== CHANNEL_STATE_FORMAT) throw bad(`is not of format ${CHANNEL_STATE_FORMAT}`);
  if (!FRAME_FORMATS_READ.includes(s.frameFormat)) throw bad(`holds frames of format ${String(s.frameFormat)}; this weir reads formats ${FRAME_FORMATS_READ.join(' and ')}`);
  for (const c of [...(s.inputs ?? []), ...(s.outputs ?? [])]) {
    if (typeof c.channel !== 'string' || typeof c.codec !== 'string' || !(c.frames instanceof Uint8Array) || !Number.isInteger(c.skip)) {
      throw bad('has a malformed channel entry');
    }
    const problem = checkFrames(c.frames);
    if (problem !== null) throw bad(`channel ${c.channel}: ${problem}`);
  }
  return s;
}

/** Why these bytes are not a sequence of whole persisted frames, or null. */
function checkFrames(bytes: Uint8Array): string | null {
  const words = wordsOf(bytes);
  let at = 0;
  while (at < bytes.byteLength) {
    if (at + FRAME_HEADER_BYTES > bytes.byteLength) return `a frame header is cut off at byte ${at}`;
    const length = words.getUint32(at, true);
    const kind = kindOf(words.getInt32(at + 4, true));
    if (!REPLAYED_KINDS.includes(kind)) {
      return `a ${frameKindName(kind)} frame at byte ${at} cannot be replayed`;
    }
    const span = frameSpan(length);
    if (at + span > bytes.byteLength) return `the frame at byte ${at} runs past the end (${length} payload bytes)`;
    at += span;
  }
  return null;
}

function wordsOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Where in a ring range (already unwrapped) the first BARRIER of checkpoint `id` or later
 * starts, in bytes from the range's start, or -1 when it holds none.
 */
export function barrierOffset(range: Uint8Array, id: number): number {
  const v = wordsOf(range);
  for (let at = 0; at + FRAME_HEADER_BYTES <= range.byteLength;) {
    const length = v.getUint32(at, true);
    if (kindOf(v.getInt32(at + 4, true)) === FrameKind.BARRIER && v.getFloat64(at + FRAME_HEADER_BYTES, true) >= id) return at;
    at += frameSpan(length);
  }
  return -1;
}

/**
 * Collects persisted frames: whole frames copied in as they lie in a ring range (PADs and
 * barriers dropped), or single frames from an overdraft. Nothing after an end of partition
 * is kept: one channel's state ends at its first end. A producer restored as finished sends
 * its end again after the one it had sent (or that its restored output replays), and a
 * second end in a replay left the restored gate waiting on it for good.
 */
export class FrameBuffer {
  private readonly chunks: Uint8Array[] = [];
  byteLength = 0;
  /** An END_OF_PARTITION is in: whatever comes after it is dropped. */
  ended = false;

  /** Appends the frames of a ring range (already unwrapped), keeping only what a replay needs. */
  appendRange(range: Uint8Array): void {
    if (this.ended) return;
    const v = wordsOf(range);
    let at = 0;
    let keepFrom = 0;
    while (at < range.byteLength) {
      const span = frameSpan(v.getUint32(at, true));
      const kind = kindOf(v.getInt32(at + 4, true));
      if (kind === FrameKind.PAD || kind === FrameKind.BARRIER || kind === FrameKind.CANCEL_BARRIER) {
        if (at > keepFrom) this.push(range.slice(keepFrom, at));
        keepFrom = at + span;
      }
      at += span;
      if (kind === FrameKind.END_OF_PARTITION) {
        this.push(keepFrom === 0 && at === range.byteLength ? range : range.slice(keepFrom, at));
        this.ended = true;
        return;
      }
    }
    if (range.byteLength > keepFrom) this.push(keepFrom === 0 ? range : range.slice(keepFrom));
  }

  appendFrame(kind: number, count: number, payload: Uint8Array): void {
    if (this.ended || kind === FrameKind.PAD || kind === FrameKind.BARRIER || kind === FrameKind.CANCEL_BARRIER) return;
    if (kind === FrameKind.END_OF_PARTITION) this.ended = true;
    const out = new Uint8Array(frameSpan(payload.byteLength));
    const v = wordsOf(out);
    v.setUint32(0, payload.byteLength, true);
    v.setInt32(4, packKindWord(kind, count), true);
    out.set(payload, FRAME_HEADER_BYTES);
    this.push(out);
  }

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.byteLength += bytes.byteLength;
  }

  bytes(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.byteLength);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

/**
 * Persisted frames read back in order, with the ring consumer's reading interface (next,
 * kind, count, payload, consume), so the input gate reads a replay as it reads a ring.
 */
export class FrameQueue {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private at = 0;
  /** Records of the current frame to drop: processed before the checkpoint this replays. */
  skip: number;
  kind = 0;
  count = 0;
  private length = 0;

  constructor(bytes: Uint8Array, skip = 0) {
    this.bytes = bytes;
    this.view = wordsOf(bytes);
    this.skip = skip;
  }

  next(): boolean {
    if (this.at >= this.bytes.byteLength) return false;
    this.length = this.view.getUint32(this.at, true);
    const word = this.view.getInt32(this.at + 4, true);
    this.kind = kindOf(word);
    this.count = countOf(word);
    return true;
  }

  payload(): Uint8Array {
    return this.bytes.subarray(this.at + FRAME_HEADER_BYTES, this.at + FRAME_HEADER_BYTES + this.length);
  }

  consume(): void {
    this.at += frameSpan(this.length);
    this.skip = 0;
  }

  get empty(): boolean {
    return this.at >= this.bytes.byteLength;
  }

  /** The frames not yet consumed, the current one included: what a checkpoint taken now persists again. */
  remaining(): Uint8Array {
    return this.bytes.subarray(this.at);
  }

  describeFrame(): string {
    return `replayed ${frameKindName(this.kind)} frame at byte ${this.at} of channel state (${this.length} bytes, ${this.count} records)`;
  }
}
