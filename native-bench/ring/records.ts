// The 16-byte record every ring variant moves, the batch writer every producer runs and the sum every consumer checks.

/**
 * One record, 8-byte aligned wherever it lies:
 *
 *   byte 0       4       8                 16
 *        +-------+-------+-----------------+
 *        | key   | seq   | value  f64      |
 *        | u32   | u32   |                 |
 *        +-------+-------+-----------------+
 *
 * Offsets below are in bytes; `u32` and `f64` are views of the same memory from byte 0.
 */
export const RECORD_BYTES = 16;
const KEYS = 1024;
const VALUES = 1 << 16;

function valueOf(seq: number): number {
  return seq & (VALUES - 1);
}

/** Writes records first .. first+n-1 at byte offset `at` (8-aligned). */
export function writeRecords(u32: Uint32Array, f64: Float64Array, at: number, first: number, n: number): void {
  let w = at >> 2;
  let d = (at >> 3) + 1;
  for (let seq = first, end = first + n; seq < end; seq++, w += 4, d += 2) {
    u32[w] = seq & (KEYS - 1);
    u32[w + 1] = seq;
    f64[d] = valueOf(seq);
  }
}

/** Sums the value field of n records at byte offset `at` (8-aligned). */
export function sumValues(f64: Float64Array, at: number, n: number): number {
  let sum = 0;
  for (let d = (at >> 3) + 1, end = d + 2 * n; d < end; d += 2) sum += f64[d]!;
  return sum;
}

/** What the consumer's sum must be after `total` records (exact: it stays far below 2^53). */
export function expectedSum(total: number): number {
  const cycles = Math.floor(total / VALUES);
  const rest = total % VALUES;
  return cycles * ((VALUES * (VALUES - 1)) / 2) + (rest * (rest - 1)) / 2;
}
