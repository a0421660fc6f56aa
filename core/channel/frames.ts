// Frame kinds and the 8-byte frame header shared by the ring, the overdraft and persisted channel state.

/**
 * Every frame starts with an 8-byte header, aligned to 8 bytes in the ring:
 *
 *   byte 0          4        5                8
 *        +----------+--------+----------------+
 *        | length   | kind   | count (u24)    |   then `length` payload bytes,
 *        | u32 LE   | u8     | records in DATA|   padded to a multiple of 8
 *        +----------+--------+----------------+
 *
 * `length` counts payload bytes only. PAD frames fill the tail of the ring when the next
 * frame does not fit before the wrap; they carry no meaning and are skipped everywhere.
 */
export const FRAME_HEADER_BYTES = 8;
export const FRAME_ALIGN = 8;
export const MAX_RECORDS_PER_FRAME = 0xff_ffff;

export const FrameKind = {
  PAD: 0,
  DATA: 1,
  WATERMARK: 2,
  BARRIER: 3,
  CANCEL_BARRIER: 4,
  END_OF_PARTITION: 5,
  /** DATA with event timestamps: `count` float64 timestamps (NaN: none), then the codec's bytes. */
  DATA_TS: 6,
  /** The producer's watermark status: payload one u32, 1 idle, 0 active again. */
  WATERMARK_STATUS: 7,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const KIND_NAMES = ['PAD', 'DATA', 'WATERMARK', 'BARRIER', 'CANCEL_BARRIER', 'END_OF_PARTITION', 'DATA_TS', 'WATERMARK_STATUS'];
export function frameKindName(kind: number): string {
  return KIND_NAMES[kind] ?? `unknown(${kind})`;
}

/** Bytes a frame with this payload occupies in the ring, header and padding included. */
export function frameSpan(payloadLength: number): number {
  return (FRAME_HEADER_BYTES + payloadLength + FRAME_ALIGN - 1) & ~(FRAME_ALIGN - 1);
}

export function packKindWord(kind: number, count: number): number {
  return (kind & 0xff) | (count << 8);
}
export function kindOf(word: number): number {
  return word & 0xff;
}
export function countOf(word: number): number {
  return word >>> 8;
}

/** A checkpoint barrier as carried in a BARRIER or CANCEL_BARRIER frame and in the priority slot. */
export interface Barrier {
  readonly checkpointId: number;
  readonly unaligned: boolean;
  /** Trigger time on the coordinator's clock, ms. */
  readonly timestamp: number;
}

const BARRIER_PAYLOAD_BYTES = 24;

export function encodeBarrier(b: Barrier): Uint8Array {
  const out = new Uint8Array(BARRIER_PAYLOAD_BYTES);
  const v = new DataView(out.buffer);
  v.setFloat64(0, b.checkpointId, true);
  v.setFloat64(8, b.timestamp, true);
  v.setUint32(16, b.unaligned ? 1 : 0, true);
  return out;
}

export function decodeBarrier(payload: Uint8Array): Barrier {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return {
    checkpointId: v.getFloat64(0, true),
    timestamp: v.getFloat64(8, true),
    unaligned: v.getUint32(16, true) === 1,
  };
}

/** WATERMARK payload: one float64 (ms; -Infinity and +Infinity are legal). */
export function encodeWatermark(ts: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, ts, true);
  return out;
}

export function decodeWatermark(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getFloat64(0, true);
}

/** WATERMARK_STATUS payload. */
export function encodeWatermarkStatus(idle: boolean): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, idle ? 1 : 0, true);
  return out;
}

export function decodeWatermarkStatus(payload: Uint8Array): boolean {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true) === 1;
}

/** A DATA_TS payload: the timestamps of records[start..end) ahead of their encoding. */
export function stampedPayload(stamps: readonly number[], start: number, end: number, records: Uint8Array): Uint8Array {
  const n = end - start;
  const out = new Uint8Array(n * 8 + records.byteLength);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n; i++) v.setFloat64(i * 8, stamps[start + i]!, true);
  out.set(records, n * 8);
  return out;
}

export const EMPTY_PAYLOAD = new Uint8Array(0);
