// UTF-8 string reads and writes for schema codecs: short ASCII by hand, the rest through Node's native Buffer routines.

/**
 * Node's Buffer.prototype.utf8Write/utf8Slice work on any Uint8Array, SharedArrayBuffer
 * views included, and measured 1.5-2x faster than TextEncoder.encodeInto/TextDecoder on
 * 8-100 byte strings (native-bench/codec-explore.ts). They are undocumented (msgpackr
 * relies on them too), so TextEncoder/TextDecoder stand in where they are missing.
 */
const native = Buffer.prototype as unknown as {
  utf8Write?: (this: Uint8Array, s: string, offset: number, length: number) => number;
  utf8Slice?: (this: Uint8Array, start: number, end: number) => string;
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const utf8Write = native.utf8Write ?? function (this: Uint8Array, s: string, offset: number): number {
  return encoder.encodeInto(s, this.subarray(offset)).written;
};
const utf8Slice = native.utf8Slice ?? function (this: Uint8Array, start: number, end: number): string {
  // TextDecoder has refused SharedArrayBuffer views in some runtimes; a copy always works.
  return decoder.decode(this.buffer instanceof SharedArrayBuffer ? this.slice(start, end) : this.subarray(start, end));
};

/** Up to this many bytes, ASCII is read and written by hand: a native call costs more than the copy (measured). */
const SHORT = 16;

/**
 * Writes `s` at p as a u32 little-endian byte length and its UTF-8 bytes, and returns the
 * position after it. The caller has made room for 4 + 3 * s.length bytes, the most UTF-8
 * can take. Lone surrogates become U+FFFD.
 */
export function writeString(u8: Uint8Array, p: number, s: string): number {
  const n = s.length;
  let bytes = 0;
  if (n < SHORT) {
    for (; bytes < n; bytes++) {
      const c = s.charCodeAt(bytes);
      if (c >= 0x80) break;
      u8[p + 4 + bytes] = c;
    }
  }
  if (bytes < n) bytes = utf8Write.call(u8, s, p + 4, u8.length - p - 4);
  u8[p] = bytes;
  u8[p + 1] = bytes >>> 8;
  u8[p + 2] = bytes >>> 16;
  u8[p + 3] = bytes >>> 24;
  return p + 4 + bytes;
}

/** Reads `length` UTF-8 bytes at p; u8 may view a SharedArrayBuffer. */
export function readString(u8: Uint8Array, p: number, length: number): string {
  if (length <= SHORT) {
    let high = 0;
    for (let i = 0; i < length; i++) high |= u8[p + i]!;
    if (high < 0x80) return shortAscii(u8, p, length);
  }
  return utf8Slice.call(u8, p, p + length);
}

const char = String.fromCharCode;

/** One fromCharCode call with the bytes as arguments: no intermediate strings (msgpackr reads short strings the same way). */
function shortAscii(u8: Uint8Array, p: number, n: number): string {
  const b = (i: number) => u8[p + i]!;
  switch (n) {
    case 0: return '';
    case 1: return char(b(0));
    case 2: return char(b(0), b(1));
    case 3: return char(b(0), b(1), b(2));
    case 4: return char(b(0), b(1), b(2), b(3));
    case 5: return char(b(0), b(1), b(2), b(3), b(4));
    case 6: return char(b(0), b(1), b(2), b(3), b(4), b(5));
    case 7: return char(b(0), b(1), b(2), b(3), b(4), b(5), b(6));
    case 8: return char(b(0), b(1), b(2), b(3), b(4), b(5), b(6), b(7));
    default: return char(b(0), b(1), b(2), b(3), b(4), b(5), b(6), b(7)) + shortAscii(u8, p + 8, n - 8);
  }
}
