// Schema codecs: a Codec for records of a declared type, compiled from the type tree the way Flink generates serializers.

import type { Codec, FusedDecodeRange, RecordStatements } from './codec.ts';
import { CodecError } from './errors.ts';
import { decoderSource, fusedDecoderSource } from './gen-decode.ts';
import { fixedSize } from './emitter.ts';
import { checkerSource, encoderSource } from './gen-encode.ts';
import { isTypeInfo } from './types.ts';
import type { RecordOf, TypeInfo } from './types.ts';
import { readString, writeString } from './utf8.ts';

/** fuseRange's compilations so far: each one's source ends in its number, so none shares another's feedback. */
let fused = 0;

/** Scratch bytes a new encoder starts with; it doubles as needed and is kept for the codec's life. */
const INITIAL_BYTES = 64 * 1024;

type Encode = (records: readonly unknown[], start: number, end: number) => Uint8Array;
type EncodeInto = (records: readonly unknown[], start: number, end: number, target: Uint8Array, view: DataView, offset: number) => void;
type EncodeRecord = (record: unknown, target: Uint8Array, view: DataView, offset: number) => void;
type Encoders = { encode: Encode; encodeInto: EncodeInto | undefined; encodeRecord: EncodeRecord | undefined };
type Decode = (payload: Uint8Array, count: number, emit: (record: unknown) => void) => void;
type DecodeRange = (payload: Uint8Array, count: number, offset: number, from: number, to: number, emit: (record: unknown) => void) => number;
type Decoders = { decode: Decode; decodeRange: DecodeRange };

/** Compiled factories by descriptor: equal descriptors generate equal source, and compiling is the slow part. */
const factories = new Map<string, { encoder: (h: object) => Encoders; trusted: (h: object) => Encoders; decoder: (h: object) => Decoders }>();

function factoriesFor(type: TypeInfo) {
  let found = factories.get(type.descriptor);
  if (found === undefined) {
    found = {
      encoder: new Function('h', encoderSource(type)) as (h: object) => Encoders,
      trusted: new Function('h', encoderSource(type, false)) as (h: object) => Encoders,
      decoder: new Function('h', decoderSource(type)) as (h: object) => Decoders,
    };
    factories.set(type.descriptor, found);
  }
  return found;
}

/**
 * A codec for records of `type`. Wire format, little-endian, records back to back with no
 * per-record header: integers and floats at their width, BIGINT64 in 8 bytes, BOOLEAN in
 * one byte, STRING as u32 byte length + UTF-8, NULLABLE as a tag byte (0 null, 1 value,
 * 2 undefined) + the value, ARRAY as u32 count + elements, TUPLE and ROW as their
 * fields in order. Each call returns a new codec with its own scratch buffer.
 *
 * `trusted`: for records that have passed `checkerFor(type)` already (what `.returns(...)`
 * declared is checked where a record is emitted): the encoder writes the same bytes without
 * testing each field's type again. A record that does not match is then written wrongly, not
 * refused, so it is only for records the check has seen.
 */
export function codecFor<const I extends TypeInfo>(type: I, options: { readonly trusted?: boolean } = {}): Codec<RecordOf<I>> {
  if (!isTypeInfo(type)) throw new TypeError(`codecFor needs a type from Types, got ${String(type)}`);
  const descriptor = type.descriptor;
  const { encoder, trusted, decoder } = factoriesFor(type);
  const { encode, encodeInto, encodeRecord } = (options.trusted === true ? trusted : encoder)({
    initialBytes: INITIAL_BYTES,
    writeString,
    fail(recordIndex: number, path: string, expected: string, value: unknown): never {
      throw CodecError.mismatch(descriptor, recordIndex, path, expected, value);
    },
    badRange(records: readonly unknown[], start: number, end: number): never {
      throw new RangeError(`encode(${descriptor}): range [${start}, ${end}) is not within 0..${records.length}`);
    },
  });
  const { decode, decodeRange } = decoder({
    readString,
    corrupt(recordIndex: number, detail: string): never {
      throw CodecError.corrupt(descriptor, recordIndex, detail);
    },
  });
  const size = fixedSize(type);
  // Compiled anew for each caller (unique source, so its call sites' feedback is its own): a
  // few per job, one per input channel that fuses.
  const fuseRange = (statements: RecordStatements, reuse: boolean): FusedDecodeRange => {
    const source = `${fusedDecoderSource(type, statements.body, reuse)}\n// ${fused++}`;
    return new Function('h', ...statements.names, 'fail', source)({
      readString,
      corruption: (recordIndex: number, detail: string) => CodecError.corrupt(descriptor, recordIndex, detail),
    }, ...statements.values, statements.fail) as FusedDecodeRange;
  };
  return (size === undefined || encodeInto === undefined || encodeRecord === undefined
    ? { descriptor: `schema:${descriptor}`, encode, decode, decodeRange, fuseRange }
    : { descriptor: `schema:${descriptor}`, encode, decode, decodeRange, fuseRange, recordBytes: size, encodeInto, encodeRecord }) as Codec<RecordOf<I>>;
}

const checkers = new Map<string, (h: object) => (v: unknown) => void>();

/**
 * The encoder's type tests alone, for one record: throws the CodecError encode would,
 * with record index 0, and writes nothing. Records on chained edges never meet an encoder.
 */
export function checkerFor(type: TypeInfo): (value: unknown) => void {
  if (!isTypeInfo(type)) throw new TypeError(`checkerFor needs a type from Types, got ${String(type)}`);
  const descriptor = type.descriptor;
  let factory = checkers.get(descriptor);
  if (factory === undefined) {
    factory = new Function('h', checkerSource(type)) as (h: object) => (v: unknown) => void;
    checkers.set(descriptor, factory);
  }
  return factory({
    fail(recordIndex: number, path: string, expected: string, value: unknown): never {
      throw CodecError.mismatch(descriptor, recordIndex, path, expected, value);
    },
  });
}
