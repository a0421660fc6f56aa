// The general codec: any JS value msgpackr can carry, one msgpack array per frame so object shapes are written once per frame.

// msgpackr's pure-JS build: its node entry ('msgpackr') also loads the native string
// extractor at once, which is loaded later here (accelerate, below).
import { Packr, Unpackr, addExtension } from 'msgpackr/pack';
import type { Codec } from './codec.ts';
import { decodeNumberRows, encodeNumberRows, fuseNumberRows, isNumberRows } from './number-rows.ts';
import { CodecError } from './errors.ts';
import { containsNegativeZero, NegativeZero, withNegativeZeroMarked } from './negative-zero.ts';

/**
 * msgpackr writes -0 as the integer 0, and its extensions match classes, never numbers,
 * so records holding -0 are copied with a marker in its place (rare; finding them costs a
 * walk over every record). addExtension is process-wide in msgpackr: type 45 ('-') is
 * taken for every Packr and Unpackr in this process.
 */
addExtension({ Class: NegativeZero, type: 45, write: () => 0, read: () => -0 });

/**
 * Measured in native-bench/codec-explore.ts (encode + decode, 1024 records per frame): one
 * msgpack array per frame with msgpackr's records extension beats packing each record on
 * its own by about 3x (object shapes are defined once per frame, not once per record) and
 * plain msgpack maps by 2-3x on objects; moreTypes (Set, Map, typed arrays, Error, RegExp)
 * and the other options here cost nothing measurable. structuredClone is left off: it made
 * encode up to 3x slower, and it would let two records of one frame decode as one object.
 */
const OPTIONS = {
  moreTypes: true,
  useBigIntExtension: true,
  // Decoded binaries would otherwise be views of the reused decode buffer.
  copyBuffers: true,
  // msgpackr would write a function as undefined, silently; a record that holds one is a bug to report.
  writeFunction: (): never => {
    throw new TypeError('a function cannot be encoded');
  },
};

/**
 * msgpackr-extract, msgpackr's native addon, decodes string-heavy frames 1.7-3x faster than
 * its JS (native-bench/codec-explore.ts), but loading it took each worker thread 10-16 ms of
 * a cold start, before its first record (native-bench/startup.bench.ts). A thread loads it
 * once its general codecs have decoded this many bytes, by importing msgpackr's node entry,
 * which installs the extractor into the one unpack module every Unpackr of the thread uses
 * (between two frames: the import completes after the decode that started it). A job that
 * decodes less never pays for it; either way the records decode alike.
 */
export const ACCELERATE_AFTER_BYTES = 1 << 20;
let decodedBytes = 0;
let accelerating: Promise<unknown> | null = null;

function countDecoded(bytes: number): void {
  decodedBytes += bytes;
  if (accelerating === null && decodedBytes >= ACCELERATE_AFTER_BYTES) {
    // Optional, as msgpackr has it: without the addon (no prebuilt one for the platform), decoding stays in JS.
    accelerating = import('msgpackr').catch(() => undefined);
  }
}

/** Resolves once the thread has loaded msgpackr's string extractor (or found it missing); null before it started to. */
export const stringAccelerator = (): Promise<unknown> | null => accelerating;

export const GENERAL_DESCRIPTOR = 'general:msgpackr/records-array/v1';

/** Below this depth a record is walked for -0; beyond it, it is taken for a cycle. */
const MAX_DEPTH = 1000;

/**
 * A codec for arbitrary JS values. What msgpackr (and so this codec) does not keep:
 * lone surrogates in strings become U+FFFD; class instances and null-prototype objects
 * decode as plain objects (own enumerable properties; toJSON is honoured); holes in arrays
 * decode as undefined; a Buffer decodes as a Uint8Array; a "__proto__" key decodes as "__proto_" (msgpackr's guard against
 * prototype pollution); functions and symbols are refused. Cyclic and shared
 * references are not kept: a cycle is an error, a shared object is written twice.
 */
export function generalCodec(): Codec<unknown> {
  const packr = new Packr(OPTIONS);
  const unpackr = new Unpackr(OPTIONS);
  let copy = new Uint8Array(64 * 1024);
  const scratch = { buf: new ArrayBuffer(64 * 1024) };

  function mark(records: readonly unknown[], start: number, end: number): readonly unknown[] {
    let out: unknown[] | undefined;
    for (let i = start; i < end; i++) {
      let found: boolean;
      try {
        found = containsNegativeZero(records[i], MAX_DEPTH);
      } catch {
        throw new CodecError(GENERAL_DESCRIPTOR, i, '', `nested deeper than ${MAX_DEPTH} levels (a cycle?)`, records[i]);
      }
      if (found) {
        out ??= records.slice(start, end);
        out[i - start] = withNegativeZeroMarked(records[i]);
      }
    }
    return out ?? (start === 0 && end === records.length ? records : records.slice(start, end));
  }

  return {
    descriptor: GENERAL_DESCRIPTOR,
    fuseRows: fuseNumberRows,
    encode(records, start, end) {
      if (!(start >= 0 && start <= end && end <= records.length)) {
        throw new RangeError(`encode(${GENERAL_DESCRIPTOR}): range [${start}, ${end}) is not within 0..${records.length}`);
      }
      const rows = encodeNumberRows(records, start, end, scratch);
      if (rows !== null) return rows;
      const batch = mark(records, start, end);
      try {
        return packr.pack(batch);
      } catch (error) {
        throw blame(packr, batch, start, error);
      }
    },
    decode(payload, count, emit) {
      if (isNumberRows(payload)) {
        if ((payload.byteOffset & 7) !== 0) {
          if (copy.length < payload.length) copy = new Uint8Array(Math.max(payload.length, 2 * copy.length));
          copy.set(payload);
          decodeNumberRows(copy.subarray(0, payload.length), count, emit);
        } else {
          decodeNumberRows(payload, count, emit);
        }
        return;
      }
      let source = payload;
      // One memcpy per frame into private memory: msgpackr's native string extraction rejected
      // shared memory and fell back to JS per string on Node 20 (MEASURED.md). Node 24 with
      // msgpackr 2.1.4 showed no such penalty (native-bench/codec-explore.ts); the copy stays as cheap insurance.
      if (payload.buffer instanceof SharedArrayBuffer) {
        if (copy.length < payload.length) copy = new Uint8Array(Math.max(payload.length, 2 * copy.length));
        copy.set(payload);
        source = copy.subarray(0, payload.length);
      }
      countDecoded(source.length);
      let records: unknown;
      try {
        records = unpackr.unpack(source);
      } catch (error) {
        throw Object.assign(CodecError.corrupt(GENERAL_DESCRIPTOR, 0, String(error)), { cause: error });
      }
      if (!Array.isArray(records) || records.length !== count) {
        throw CodecError.corrupt(GENERAL_DESCRIPTOR, 0, `expected an array of ${count} records`);
      }
      for (let i = 0; i < count; i++) emit(records[i]);
    },
  };
}

/** Packs the records one by one to find the one msgpackr refused; only runs after a failure. */
function blame(packr: Packr, batch: readonly unknown[], start: number, error: unknown): CodecError {
  for (let i = 0; i < batch.length; i++) {
    try {
      packr.pack(batch[i]);
    } catch (recordError) {
      const problem = `msgpackr cannot encode it (${recordError instanceof Error ? recordError.message : String(recordError)})`;
      return Object.assign(new CodecError(GENERAL_DESCRIPTOR, start + i, '', problem, batch[i]), { cause: recordError });
    }
  }
  return Object.assign(new CodecError(GENERAL_DESCRIPTOR, start, '', `msgpackr cannot encode the batch (${String(error)})`), { cause: error });
}
