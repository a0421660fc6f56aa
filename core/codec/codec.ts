// The Codec contract: how a batch of records becomes one DATA frame payload and back.

/**
 * Statements run on each decoded record `v`, compiled into a decoder's loop in place of its
 * emit call (the input gate's fused path); `names` are the names they use, `values` what each
 * stands for. A loop that compiles them in has one `try` around it, which calls `fail` with
 * whatever the statements threw.
 */
export interface RecordStatements {
  readonly names: readonly string[];
  readonly values: readonly unknown[];
  readonly body: string;
  readonly fail: (err: unknown) => never;
}

/** decodeRange with the consumer compiled in: no emit argument. */
export type FusedDecodeRange = (payload: Uint8Array, count: number, offset: number, from: number, to: number) => number;

/**
 * Records from..to-1 of a number-rows frame (the general codec's frames of flat number objects,
 * fixed-size rows of one shape) with the consumer compiled in. Other frames of the general
 * codec are not of fixed size and are decoded whole.
 */
export type FusedRows = (payload: Uint8Array, count: number, from: number, to: number) => void;

/**
 * Turns records into frame payloads and back. A DATA frame's header carries the record
 * count, so a payload holds only the records. Every payload is self-contained: any frame
 * decodes on its own, with a fresh codec instance, in any thread, in any order, which is
 * what persisted channel state and re-routing (decode, then re-encode) rely on.
 */
export interface Codec<T = unknown> {
  /** Stable text naming the codec and its schema; part of the job graph fingerprint. */
  readonly descriptor: string;
  /** Encodes records[start..end) as one frame payload. The result may be a view of a scratch buffer reused by the next call: the caller copies it out before encoding again. */
  encode(records: readonly T[], start: number, end: number): Uint8Array;
  /** Bytes of every record, where the schema has only fixed-size fields (such a codec has encodeInto and encodeRecord). */
  readonly recordBytes?: number;
  /**
   * Encodes records[start..end) straight into `target` (whose DataView is `view`) from
   * `offset`, recordBytes * (end - start) bytes, the bytes encode() would return: a ring's
   * reserved space, so the frame is not copied. Fixed-size codecs only.
   */
  encodeInto?(records: readonly T[], start: number, end: number, target: Uint8Array, view: DataView, offset: number): void;
  /**
   * Encodes one record at `offset` of `target` (recordBytes bytes, what encode() writes for
   * it): writers that encode records as they are added. Fixed-size codecs only.
   */
  encodeRecord?(record: T, target: Uint8Array, view: DataView, offset: number): void;
  /** Decodes a payload that holds `count` records, calling emit for each in order. The payload may be a view of a SharedArrayBuffer; copy out first where the decoder needs it. */
  decode(payload: Uint8Array, count: number, emit: (record: T) => void): void;
  /**
   * Decodes records from..to-1 of a payload that holds `count` records, the first of them at
   * byte `offset`, and returns the offset after the last: a frame decoded a few records at a
   * time, with other work between the calls (the input gate's checks). Checks what decode
   * checks: the payload's size at the first call on it, and that the last record ends it.
   * Schema codecs have it; the general codec decodes a frame whole.
   */
  decodeRange?(payload: Uint8Array, count: number, offset: number, from: number, to: number, emit: (record: T) => void): number;
  /**
   * A decodeRange of its own, compiled from unique source with `statements` in its loop where
   * decodeRange calls emit: what one input channel of one subtask decodes with. `reuse`: every
   * record it decodes is the same array or object (tuple and row types; others ignore it), for
   * consumers that keep no input record. Schema codecs have it.
   */
  fuseRange?(statements: RecordStatements, reuse: boolean): FusedDecodeRange;
  /**
   * For the general codec: a FusedRows of its own, for the frames that are number rows
   * (isNumberRows), compiled per shape as its frames arrive. Others decode a frame whole.
   */
  fuseRows?(statements: RecordStatements): FusedRows;
}
