// Soak: the event-time exactly-once job (test/fixtures/jobs/event-time.ts, tumbling windows, two source
// subtasks) run many times, several at once in one process as the test runner does, each run checked
// against an oracle written apart from the fixture: windows lost, duplicated or wrong.
//
//   node --conditions=weir-source native-bench/soak-event-time.ts [runs per lane=20] [lanes=4] [backend=heap] [unaligned=0] [fail=process]
//
// Start a busy loop on the other core first (node -e 'for(;;){}' &): checkpoint races show up under contention.
import { submit } from 'weir';

const N = 12_000;
const KEYS = 20;
const [runs, lanes] = [Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 4)];
const backend = (process.argv[4] ?? 'heap') as 'heap' | 'lmdb';
const unaligned = process.argv[5] === '1';
const fail = process.argv[6] ?? 'process';

const want = new Map<string, { sum: number; count: number }>();
for (let i = 0; i < N; i++) {
  const k = i % KEYS;
  const ts = 2 * i - ((i * 7919) % 40);
  const id = `${k}@${ts - (((ts % 100) + 100) % 100)}`;
  const w = want.get(id) ?? { sum: 0, count: 0 };
  w.sum += i;
  w.count++;
  want.set(id, w);
}

let bad = 0;
await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
  for (let run = 0; run < runs; run++) {
    const job = new URL(`../test/fixtures/jobs/event-time.ts?n=${N}&keys=${KEYS}&fail=${fail}&srcP=2`, import.meta.url);
    const r = await (await submit(job, {
      parallelism: 2, stateBackend: backend, unaligned, checkpointInterval: 20, restartStrategy: 'fixed-delay', restartAttempts: 3, restartDelay: 0,
    })).done;
    const got = new Map<string, number>();
    let wrong = 0;
    for (const o of r.collected['out'] as { k: number; start: number; sum: number; count: number }[]) {
      const id = `${o.k}@${o.start}`;
      got.set(id, (got.get(id) ?? 0) + 1);
      const w = want.get(id);
      if (w === undefined || w.sum !== o.sum || w.count !== o.count) wrong++;
    }
    const lost = [...want.keys()].filter((id) => !got.has(id));
    const dup = [...got.values()].filter((c) => c > 1).length;
    const ok = lost.length === 0 && dup === 0 && wrong === 0;
    if (!ok) bad++;
    console.log(`lane ${lane} run ${run}: ${ok ? 'exact' : 'WRONG'}: ${lost.length} windows lost, ${dup} duplicated, ${wrong} wrong;`
      + ` restarts ${r.restarts}, restored checkpoint ${r.restoredFrom?.id ?? '-'}`
      + (lost.length > 0 ? `; lost windows start ${lost.slice(0, 6).join(' ')}` : ''));
  }
}));
console.log(`${runs * lanes - bad} of ${runs * lanes} runs exact (${backend}, ${unaligned ? 'unaligned' : 'aligned'}, fail=${fail})`);
process.exit(bad > 0 ? 1 : 0);
