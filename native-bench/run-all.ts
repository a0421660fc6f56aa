// Runs every native-bench/*.bench.ts in its own process, one after another; exits non-zero if any fails.
// Usage: npm run bench [-- name-filter ...]

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./', import.meta.url));
const filters = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();

if (benches.length === 0) {
  console.error(`no benchmark in ${dir} matches ${filters.join(' ') || '*.bench.ts'}`);
  process.exit(1);
}

const failed: string[] = [];
for (const file of benches) {
  console.log(`\n=== ${file}`);
  const started = performance.now();
  // One process each: a benchmark's JIT state, heap and worker threads cannot colour the next one.
  const r = spawnSync(process.execPath, [...process.execArgv, `${dir}${file}`], { stdio: 'inherit' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status === 0) {
    console.log(`=== ${file}: ok in ${seconds} s`);
  } else {
    failed.push(file);
    console.log(`=== ${file}: FAILED (${r.error?.message ?? (r.signal !== null ? `signal ${r.signal}` : `exit ${r.status}`)}) after ${seconds} s`);
  }
}

console.log(`\n${benches.length - failed.length} of ${benches.length} benchmarks passed${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
process.exitCode = failed.length === 0 ? 0 : 1;
