// Soak: the keyed exactly-once job (test/fixtures/jobs/exactly-once.ts) over a matrix of backends, parallelism,
// alignment and failure points, several runs at once in one process as the test runner does; every run checked:
// each value once, each key's counts 1..n, each key's values from one source subtask in their order.
//
//   node --conditions=weir-source native-bench/soak-exactly-once.ts [runs per lane=20] [lanes=4] [seed=1]
//
// Start a busy loop on the other core first (node -e 'for(;;){}' &): checkpoint races show up under contention.
import { submit } from 'weir';

const N = 20_000;
const KEYS = 50;
const [runs, lanes, seed] = [Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 4), Number(process.argv[4] ?? 1)];
const fails = [['process', 'after'], ['process', 'before'], ['snapshot', 'after'], ['restore', 'after'], ['twice', 'after']] as const;

let state = seed;
/** mulberry32: each run's configuration from the seed, so a failing run can be run again. */
const pick = <T>(xs: readonly T[]): T => {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return xs[((t ^ (t >>> 14)) >>> 0) % xs.length]!;
};

type Out = [key: number, value: number, count: number];
let bad = 0;
await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
  for (let run = 0; run < runs; run++) {
    const backend = pick(['heap', 'lmdb'] as const);
    const parallelism = pick([1, 2]);
    const unaligned = pick([false, true]);
    const [fail, where] = pick(fails);
    const what = `${backend} p${parallelism} ${unaligned ? 'unaligned' : 'aligned'} fail=${fail} where=${where}`;
    const job = new URL(`../test/fixtures/jobs/exactly-once.ts?n=${N}&keys=${KEYS}&fail=${fail}&where=${where}`, import.meta.url);
    const r = await (await submit(job, {
      parallelism, stateBackend: backend, unaligned, checkpointInterval: 20, restartStrategy: 'fixed-delay', restartAttempts: 3, restartDelay: 0,
    })).done;
    const out = r.collected['out'] as Out[];
    const seen = new Map<number, number>();
    for (const o of out) seen.set(o[1], (seen.get(o[1]) ?? 0) + 1);
    const lost = N - seen.size;
    const duplicated = [...seen.values()].filter((c) => c > 1).length;
    let disorder = 0;
    const byKey = new Map<number, Out[]>();
    for (const o of out) byKey.set(o[0], [...(byKey.get(o[0]) ?? []), o]);
    for (const rows of byKey.values()) {
      rows.sort((a, b) => a[2] - b[2]);
      if (rows.some((row, i) => row[2] !== i + 1)) disorder++;
      const lastOf = new Map<number, number>();
      for (const [, v] of rows) {
        const src = Math.floor((v * parallelism) / N);
        if ((lastOf.get(src) ?? -1) > v) disorder++;
        lastOf.set(src, v);
      }
    }
    const ok = lost === 0 && duplicated === 0 && disorder === 0 && out.length === N;
    if (!ok) bad++;
    console.log(`lane ${lane} run ${run} (${what}): ${ok ? 'exact' : 'WRONG'}: ${lost} lost, ${duplicated} duplicated, ${disorder} keys out of order;`
      + ` restarts ${r.restarts}, restored checkpoint ${r.restoredFrom?.id ?? '-'}`);
  }
}));
console.log(`${runs * lanes - bad} of ${runs * lanes} runs exact (seed ${seed})`);
process.exit(bad > 0 ? 1 : 0);
