// An unaligned checkpoint triggered while the sources finish and the keyed count still drains its input
// (native-bench/jobs/finished-input.ts): how long it takes, and which subtasks took it (a finished source is
// left out). Each trigger time in a job of its own, on fresh threads.
// Run: npm exec -- node --conditions=weir-source native-bench/finished-input.ts [trigger ms ...]   (default 200 400 600 800 1000)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submit } from '../core/index.ts';

const times = process.argv.slice(2).map(Number);
for (const at of times.length > 0 ? times : [200, 400, 600, 800, 1000]) {
  const dir = mkdtempSync(join(tmpdir(), 'weir-finished-input-'));
  const started = Date.now();
  const job = await submit(new URL('./jobs/finished-input.ts?n=200000&spinUs=25', import.meta.url),
    { parallelism: 2, checkpointInterval: 600_000, unaligned: true, checkpointDir: dir, warmSlotsMs: 0 });
  await new Promise((r) => setTimeout(r, at));
  const emitted = job.recordsEmitted();
  const s = await job.triggerCheckpoint().catch((err: Error) => err);
  await job.done;
  console.log(`triggered at ${at} ms (sources had emitted ${emitted}): ${s instanceof Error ? s.message
    : `completed in ${Math.round(s.durationMs)} ms, ${s.alignment}, ${s.persistedBytes} bytes in flight, subtasks ${Object.keys(s.subtasks ?? {}).sort().join(' ')}`}; `
    + `the job ended at ${Date.now() - started} ms`);
  rmSync(dir, { recursive: true, force: true });
}
