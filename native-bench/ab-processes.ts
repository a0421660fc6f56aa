// Two checkouts, one job, alternating processes: each round runs native-bench/job-cpu.ts in a fresh process of each
// checkout (the order swapped every round, so a spell of load falls on both alike), and the medians of the rounds'
// wall and CPU times are compared. Unlike ab-checkouts.ts, neither checkout's code shares a process with the other's.
//
// Run: git worktree add /tmp/old <commit> && ln -s "$PWD/node_modules" /tmp/old/node_modules
//      npm exec -- node native-bench/ab-processes.ts /tmp/old "$PWD" <rounds> <job?query> <records> [records form|-] [options JSON|-]
//   e.g. ... /tmp/old "$PWD" 8 keyed-count 40000000 pairs '{"checkpointInterval":1000,"unaligned":true,"objectReuse":true}'
// Each checkout runs its own native-bench/job-cpu.ts (it imports that checkout's weir and jobs).
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { median } from './lib/report.ts';

const [a, b, roundsArg, job, n, records = '-', options = '-'] = process.argv.slice(2);
if (a === undefined || b === undefined || job === undefined || n === undefined) {
  console.error('usage: ab-processes.ts <checkout A> <checkout B> <rounds> <job?query> <records> [records form|-] [options JSON|-]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 8);

/** One process of `root`'s code: job-cpu.ts's medians of 3 runs, [wall ms, cpu ms]. */
function once(root: string): [number, number] {
  const script = join(resolve(root), 'native-bench', 'job-cpu.ts');
  const out = execFileSync(process.execPath, ['--conditions=weir-source', script, job!, n!, records, options, '3'], { cwd: root, encoding: 'utf8' });
  const m = /wall (\d+) ms .*cpu (\d+) ms/.exec(out);
  if (m === null) throw new Error(`job-cpu.ts printed no times:\n${out}`);
  return [Number(m[1]), Number(m[2])];
}

const times: Record<'A' | 'B', [number, number][]> = { A: [], B: [] };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const);
  for (const side of order) times[side].push(once(side === 'A' ? a : b));
}
const med = (side: 'A' | 'B', k: 0 | 1) => median(times[side].map((t) => t[k]));
console.log(`${job} n=${n} ${records} ${options}, ${rounds} rounds, each a process of each checkout (medians of its 3 runs):`);
for (const side of ['A', 'B'] as const) {
  console.log(`  ${side}: walls ${times[side].map((t) => t[0]).join(' ')}; cpus ${times[side].map((t) => t[1]).join(' ')}`);
}
console.log(`B / A: wall ${(med('A', 0) / med('B', 0)).toFixed(3)}x (${med('A', 0)} -> ${med('B', 0)} ms), `
  + `cpu ${(med('A', 1) / med('B', 1)).toFixed(3)}x (${med('A', 1)} -> ${med('B', 1)} ms)`);
