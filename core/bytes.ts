// Byte helpers shared by the channel layer and the state backends.

/**
 * A copy that owns its memory. Not `bytes.slice()`: on a Node Buffer (msgpackr returns
 * them) `slice` is a view of the same memory, which the next encode overwrites.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

/** A byte count for people: B, KiB, MiB. */
export function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
