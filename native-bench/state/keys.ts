// Deterministic key draws for the state benchmarks: uniform and Zipf(s) over a key domain, from a record's sequence number.
//
// A draw is a pure function of (sequence number, seed), so every run, thread and parallelism
// sees the same keys, and a job's map function can draw without shared state.

/** Uniform in [0, 1): murmur3's fmix32 over n spread by the golden ratio, 32 bits. */
export function unit(n: number, seed: number): number {
  let h = (Math.imul(n, 0x9e3779b9) ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

export function uniformKey(n: number, domain: number, seed: number): number {
  return Math.floor(unit(n, seed) * domain);
}

/**
 * Zipf(s) over ranks 0..domain-1 (rank r drawn with weight 1/(r+1)^s), by inverse CDF. A guide
 * table of `domain` buckets over [0, 1) gives each draw the few ranks its bucket spans, so a draw
 * costs a lookup and a short search instead of a binary search over the whole CDF: what the
 * job's map function pays per record must be small beside the state access it feeds.
 */
export class Zipf {
  private readonly cdf: Float64Array;
  private readonly guide: Int32Array;
  private readonly seed: number;

  constructor(domain: number, s: number, seed: number) {
    this.seed = seed;
    this.cdf = new Float64Array(domain);
    let sum = 0;
    for (let r = 0; r < domain; r++) this.cdf[r] = sum += 1 / (r + 1) ** s;
    for (let r = 0; r < domain; r++) this.cdf[r]! /= sum;
    this.cdf[domain - 1] = 1;
    this.guide = new Int32Array(domain + 1);
    let r = 0;
    for (let b = 0; b <= domain; b++) {
      while (this.cdf[r]! < b / domain) r++;
      this.guide[b] = r; // the first rank whose CDF reaches the bucket's start
    }
  }

  /** The rank of draw n: 0 is the most frequent. */
  rank(n: number): number {
    const u = unit(n, this.seed);
    const b = Math.floor(u * (this.guide.length - 1));
    let lo = this.guide[b]!;
    let hi = this.guide[b + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! <= u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
