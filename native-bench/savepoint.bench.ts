// Savepoints of 1M keys: the time to write one and to restore it (at the same and at another parallelism),
// heap and lmdb, each beside a plain copy of the same bytes on the same disk, measured in the same run.
//
// The job (native-bench/jobs/savepoint-count.ts) counts 1M distinct keys at parallelism 2 and
// then holds. Write: the savepoint's durationMs (trigger to durable and moved into place)
// against cpSync of the savepoint directory it wrote. Restore: a run from the savepoint whose
// input is already read, minus a fresh run of the same job with no input (the start-up both
// pay), against the same copy. In rounds, so a figure and its baseline see the same load.
//
// Run: npm run bench -- savepoint   (or: npm exec -- node native-bench/savepoint.bench.ts)
import { cpSync, mkdtempSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { submit } from '../core/index.ts';
import type { JobOptions } from '../core/index.ts';
import { formatValue, median, record, writeResults } from './lib/report.ts';

const N = Number(process.env['WEIR_BENCH_KEYS'] ?? 1_000_000);
const ROUNDS = Number(process.env['WEIR_BENCH_ROUNDS'] ?? 3);
const root = mkdtempSync(join(os.tmpdir(), 'weir-savepoint-bench-'));
const job = (hold: string, n = N) => {
  const url = new URL('./jobs/savepoint-count.ts', import.meta.url);
  url.search = new URLSearchParams({ n: String(n), hold }).toString();
  return url;
};
const base = (dir: string): Partial<JobOptions> => ({
  checkpointInterval: 3_600_000, workDir: join(dir, 'work'), lmdbCacheBytes: 64 << 20, restartStrategy: 'none', maxParallelism: 128,
});

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) if (f.isFile()) n += statSync(join(f.parentPath, f.name)).size;
  return n;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

console.log(`savepoint bench: ${N} keys, ${ROUNDS} rounds, ${os.availableParallelism()} cores`);
for (const backend of ['heap', 'lmdb'] as const) {
  const write: number[] = [];
  const copy: number[] = [];
  const restoreSame: number[] = [];
  const restoreRescaled: number[] = [];
  const empty: number[] = [];
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const dir = mkdtempSync(join(root, `${backend}-`));
    const hold = join(dir, 'hold');
    const h = await submit(job(hold), { ...base(dir), parallelism: 2, stateBackend: backend, checkpointDir: join(dir, 'ck') });
    while (h.recordsEmitted() < N) await new Promise((r) => setTimeout(r, 20));
    // Once emitted, the records still in flight are processed before the savepoint's barrier.
    const sp = await h.savepoint(join(dir, 'sp'));
    await h.cancel();
    write.push(sp.durationMs);
    bytes = dirBytes(sp.path);
    copy.push(await timed(async () => { cpSync(sp.path, join(dir, 'copy'), { recursive: true }); }));
    writeFileSync(hold, '');
    for (const [p, into] of [[2, restoreSame], [3, restoreRescaled]] as const) {
      into.push(await timed(async () => {
        const r = await (await submit(job(hold), { ...base(dir), parallelism: p, stateBackend: backend, fromSavepoint: sp.path, checkpointDir: join(dir, `ck-${p}`) })).done;
        if (r.restoredFrom?.path !== sp.path) throw new Error('the run did not restore the savepoint');
      }));
    }
    empty.push(await timed(async () => { await (await submit(job(hold, 0), { ...base(dir), parallelism: 2, stateBackend: backend, checkpointDir: join(dir, 'ck-empty') })).done; }));
    rmSync(dir, { recursive: true, force: true });
  }
  const startup = median(empty);
  console.log(`${backend}: savepoint of ${N} keys is ${formatValue(bytes)} bytes; a fresh empty run takes ${startup.toFixed(0)} ms (subtracted from restores)`);
  const c = median(copy);
  record({ name: `${backend}: savepoint write, ${N} keys at p2`, value: median(write), unit: 'ms', samples: write, baseline: { name: 'cpSync of its bytes', value: c } });
  record({ name: `${backend}: restore at p2 (same parallelism)`, value: median(restoreSame) - startup, unit: 'ms', samples: restoreSame, baseline: { name: 'cpSync of its bytes', value: c } });
  record({ name: `${backend}: restore at p3 (rescaled from p2)`, value: median(restoreRescaled) - startup, unit: 'ms', samples: restoreRescaled, baseline: { name: 'cpSync of its bytes', value: c } });
}
writeResults('savepoint');
rmSync(root, { recursive: true, force: true });
