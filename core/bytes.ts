// Byte helpers shared by the channel layer and the state backends.

/**
 * A copy that owns its memory. Not `bytes.slice()`: on a Node Buffer (msgpackr returns
 * them) `slice` is a view of the same memory, which the next encode overwrites.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}
