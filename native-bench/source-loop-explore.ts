// The typed keyed job's source side written by hand in one loop, as a floor for weir's source subtask: the user's
// toPair alone, then with the emit-time check, the route to one of two channels by a small-key table, the
// [int32, float64] encode into the channel's 16 KiB frame and the frame's copy into a ring buffer when full.
// Expect: a few ns for toPair alone; the whole about 4x that. Run: npm exec -- node native-bench/source-loop-explore.ts
import { toPair } from './pipeline/functions.ts';

const N = 20_000_000;
const PER_FRAME = 1365;
const FRAME = PER_FRAME * 12;
const RING = 1 << 20;

let sink = 0;

function pairsOnly(): void {
  let s = 0;
  for (let i = 0; i < N; i++) {
    const p = toPair(i);
    s += p[0] + p[1];
  }
  sink += s;
}

const channelOfKey = new Int32Array(65536).map((_, k) => k & 1);
const staging = [new Uint8Array(FRAME), new Uint8Array(FRAME)];
const views = staging.map((b) => new DataView(b.buffer));
const ring = new Uint8Array(RING);
const staged = new Int32Array(2);
let at = 0;

function check(v: unknown): void {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number' || (v[0] | 0) !== v[0] || typeof v[1] !== 'number') {
    throw new Error('not an [int32, float64]');
  }
}

function wholeSource(): void {
  for (let i = 0; i < N; i++) {
    const v = toPair(i);
    check(v);
    const c = channelOfKey[v[0]]!;
    const n = staged[c]!;
    const d = views[c]!;
    d.setInt32(n * 12, v[0], true);
    d.setFloat64(n * 12 + 4, v[1], true);
    if ((staged[c] = n + 1) >= PER_FRAME) {
      ring.set(staging[c]!, at);
      at = (at + 16_384) % (RING - 16_384);
      staged[c] = 0;
    }
  }
  sink += staged[0]!;
}

const cases: [string, () => void][] = [['toPair alone', pairsOnly], ['toPair, check, route, encode, frame copy', wholeSource]];
const ns: Record<string, number[]> = {};
for (let round = 0; round < 5; round++) {
  for (const [name, f] of cases) {
    const t = performance.now();
    f();
    (ns[name] ??= []).push(((performance.now() - t) * 1e6) / N);
  }
}
console.log(`${N / 1e6}M records a round, 5 rounds alternating, medians (the first round warms up):`);
for (const [name, runs] of Object.entries(ns)) {
  const sorted = runs.slice(1).sort((a, b) => a - b);
  console.log(`  ${name.padEnd(44)} ${((sorted[1]! + sorted[2]!) / 2).toFixed(2)} ns/record`);
}
if (sink === 0) console.log('');
