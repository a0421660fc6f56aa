// Self time per function of V8 CPU profiles (node --cpu-prof): one table per thread, the figures BENCHMARKS.md quotes from profiles.
// Run: npm exec -- node --cpu-prof --cpu-prof-dir=/tmp/prof native-bench/job-cpu.ts windowed 1000000 - - 1
//      npm exec -- node native-bench/profile-summary.ts /tmp/prof [rows]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const [dir, rowsArg = '20'] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: profile-summary.ts <dir of .cpuprofile files> [rows]');
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    const dt = p.timeDeltas[i] ?? 0;
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
  });
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
  for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg))) {
    console.log(`${((100 * t) / total).toFixed(1).padStart(6)}%  ${name}`);
  }
}
