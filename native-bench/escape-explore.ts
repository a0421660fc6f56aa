// Which decoded records V8 allocates when nothing keeps them: a [int32, float64] read from a frame as an array
// literal, as an object literal, and into one reused array (objectReuse), each in a loop that sums the fields.
// Expect: the object literal's allocation dropped by escape analysis (a handful of scavenges), the array literal's
// kept (one scavenge per few MB of records), the reused array none. Each variant in a fresh process.
// Run: npm exec -- node native-bench/escape-explore.ts
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const RECORDS = 4096;
const ROUNDS = 20_000;
const PER_CALL = 256;

type Variant = (dv: DataView, from: number, to: number) => number;

// The loops, as a decoder's range loop with the consumer inlined: the record is dead after the sum.
const variants: Record<string, Variant> = {
  'array literal [r1, r2]': (dv, from, to) => {
    let p = from * 12;
    let total = 0;
    for (let i = from; i < to; i++) {
      const v = [dv.getInt32(p, true), dv.getFloat64(p + 4, true)];
      p += 12;
      total += v[0]! + v[1]!;
    }
    return total;
  },
  'object literal {a, b}': (dv, from, to) => {
    let p = from * 12;
    let total = 0;
    for (let i = from; i < to; i++) {
      const v = { a: dv.getInt32(p, true), b: dv.getFloat64(p + 4, true) };
      p += 12;
      total += v.a + v.b;
    }
    return total;
  },
  'one reused array (objectReuse)': (() => {
    const v = [0, 0.5];
    return (dv: DataView, from: number, to: number) => {
      let p = from * 12;
      let total = 0;
      for (let i = from; i < to; i++) {
        v[0] = dv.getInt32(p, true);
        v[1] = dv.getFloat64(p + 4, true);
        p += 12;
        total += v[0] + v[1]!;
      }
      return total;
    };
  })(),
};

async function run(name: string): Promise<{ nsPerRecord: number; scavenges: number }> {
  const dv = new DataView(new ArrayBuffer(RECORDS * 12));
  for (let i = 0; i < RECORDS; i++) {
    dv.setInt32(i * 12, i % 1000, true);
    dv.setFloat64(i * 12 + 4, i + 0.5, true);
  }
  let scavenges = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  });
  observer.observe({ entryTypes: ['gc'] });
  const loop = variants[name]!;
  let sink = 0;
  const t = performance.now();
  for (let k = 0; k < ROUNDS; k++) for (let f = 0; f < RECORDS; f += PER_CALL) sink += loop(dv, f, f + PER_CALL);
  const ms = performance.now() - t;
  // GC entries are delivered on the event loop, after the loop.
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  if (!(sink > 0)) throw new Error('no work done');
  return { nsPerRecord: (ms * 1e6) / (ROUNDS * RECORDS), scavenges };
}

const only = process.argv[2];
if (only !== undefined) {
  console.log(JSON.stringify(await run(only)));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(`${(ROUNDS * RECORDS / 1e6).toFixed(0)}M records per variant, each variant in a fresh process`);
  for (const name of Object.keys(variants)) {
    const out = execFileSync(process.execPath, [...process.execArgv, self, name], { encoding: 'utf8' });
    const r = JSON.parse(out) as { nsPerRecord: number; scavenges: number };
    console.log(`  ${name.padEnd(32)} ${r.nsPerRecord.toFixed(2).padStart(6)} ns/record  ${String(r.scavenges).padStart(6)} scavenges`);
  }
}
