// CodecError: a record that does not fit its declared type, or a payload that does not decode.

import { inspect } from 'node:util';

/**
 * Thrown by encode when a record does not match its codec's type, and by decode when a
 * payload is truncated or malformed. The message names everything needed to find the bad
 * record; the same facts are kept as properties for code that reports them elsewhere.
 */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  /** Descriptor of the codec's record type, e.g. `row<user:int32,amount:float64>`. */
  readonly descriptor: string;
  /** Where in the record, e.g. `.amount`, `[1]`, `.items[3].x`; empty for the record itself. */
  readonly path: string;
  /** Index of the record in the `records` array given to encode, or its position in decode order. */
  readonly recordIndex: number;
  /** The offending value (encode), or undefined (decode). */
  readonly value: unknown;

  constructor(descriptor: string, recordIndex: number, path: string, problem: string, value?: unknown) {
    super(`record ${recordIndex}: ${descriptor}${path}: ${problem}`);
    this.descriptor = descriptor;
    this.path = path;
    this.recordIndex = recordIndex;
    this.value = value;
  }

  /** A value that does not fit the type declared at `path`. */
  static mismatch(descriptor: string, recordIndex: number, path: string, expected: string, value: unknown): CodecError {
    return new CodecError(descriptor, recordIndex, path, `expected ${expected}, got ${describeValue(value)}`, value);
  }

  /** A payload that ends early, runs long, or holds bytes no encoder writes. */
  static corrupt(descriptor: string, recordIndex: number, detail: string): CodecError {
    return new CodecError(descriptor, recordIndex, '', `corrupt payload: ${detail}`);
  }
}

/** A short, single-line rendering of an offending value, with its type where the text alone would hide it. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined (missing?)';
  if (value === null) return 'null';
  const shown = inspect(value, { depth: 2, maxArrayLength: 8, maxStringLength: 80, breakLength: Infinity });
  return `${shown} (${Array.isArray(value) ? 'array' : typeof value})`;
}
